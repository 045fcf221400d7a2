/** One Server-Sent Event as a client sees it. */
export type SseEvent = { id: string | null; event: string; data: string };

/**
 * Reads a text/event-stream response, calling `onEvent` for each event and `onComment` for each
 * comment line, until the server ends it or `signal` aborts. Resolves with every event read.
 */
export async function readEvents(response: Response, handlers: { onEvent?(event: SseEvent): void; onComment?(text: string): void } = {}): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body!) {
      buffer += decoder.decode(chunk, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event: SseEvent = { id: null, event: 'message', data: '' };
        let any = false;
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) handlers.onComment?.(line.slice(1).trim());
          else if (line.startsWith('id: ')) (event.id = line.slice(4)), (any = true);
          else if (line.startsWith('event: ')) (event.event = line.slice(7)), (any = true);
          else if (line.startsWith('data: ')) (event.data += line.slice(6)), (any = true);
        }
        if (any && event.data) {
          events.push(event);
          handlers.onEvent?.(event);
        }
      }
    }
  } catch (error) {
    if ((error as Error).name !== 'AbortError') throw error;
  }
  return events;
}
