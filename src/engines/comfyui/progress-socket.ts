const MAX_TRACKED = 10_000;

/**
 * ComfyUI's websocket for one client id: the sampler's progress per prompt id. It (re)connects
 * lazily; while it is down the engine still learns every state from history and queue polling.
 */
export class ProgressSocket {
  private readonly url: string;
  private socket: WebSocket | null = null;
  private readonly progress = new Map<string, number>();
  private closed = false;

  constructor(url: string) {
    this.url = url;
  }

  open(): void {
    if (this.socket || this.closed) return;
    const socket = new WebSocket(this.url);
    const drop = () => {
      if (this.socket === socket) this.socket = null;
    };
    socket.addEventListener('message', (event) => this.onMessage(event.data));
    socket.addEventListener('close', drop);
    socket.addEventListener('error', drop);
    this.socket = socket;
  }

  /** The fraction done of a running prompt (0–1), when the socket has seen some. */
  progressOf(promptId: string): number | undefined {
    this.open();
    return this.progress.get(promptId);
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
    this.socket = null;
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return; // binary frames are sampler previews
    let message: { type?: string; data?: { prompt_id?: string; value?: number; max?: number } };
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    const id = message.data?.prompt_id;
    if (!id) return;
    if (message.type === 'progress' && message.data?.max) {
      if (this.progress.size >= MAX_TRACKED) this.progress.delete(this.progress.keys().next().value!);
      this.progress.set(id, Math.max(this.progress.get(id) ?? 0, (message.data.value ?? 0) / message.data.max));
    } else if (message.type === 'execution_success' || message.type === 'execution_error' || message.type === 'execution_interrupted') {
      this.progress.delete(id);
    }
  }
}
