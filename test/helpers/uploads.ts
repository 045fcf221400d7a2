import { readFileSync } from 'node:fs';

export const MB = 1024 * 1024;
const PNG_SIGNATURE = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

/** The peak resident memory of a process so far, in bytes (Linux). */
export function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
  return Number(kb) * 1024;
}

/** POSTs one `size`-byte file (PNG-headed) to the multipart upload route, made as it is sent: the client never holds it whole. */
export async function streamUpload(baseUrl: string, key: string, size: number): Promise<{ status: number; body: any }> {
  const boundary = 'vidgate-upload-boundary';
  const res = await fetch(`${baseUrl}/api/v1/files/upload/stream`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: streamedForm(boundary, size),
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: await res.json() };
}

function streamedForm(boundary: string, size: number): ReadableStream<Uint8Array> {
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const chunk = Buffer.alloc(MB, 7);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) {
        controller.enqueue(tail);
        controller.close();
        return;
      }
      const length = Math.min(MB, size - sent);
      controller.enqueue(sent === 0 ? Buffer.concat([head, PNG_SIGNATURE, chunk.subarray(PNG_SIGNATURE.length, length)]) : chunk.subarray(0, length));
      sent += length;
    },
  });
}
