// The image-path prober: GET the health path on the VIP over one keep-alive connection. A minimal
// HTTP/1.1 client (status line, Content-Length or chunked, or a close-delimited body): Node's http
// module costs about as much CPU again per probe, and this is all the checker needs. Rounds as
// DnsProber's: probe() sends, the result goes to onResult once, expire() ends it.
import net from 'node:net';

export class HttpProber {
  private readonly host: string;
  private readonly port: number;
  private readonly request: Buffer;
  private sock: net.Socket | undefined;
  private buf = '';
  private running = false;

  constructor(
    url: string,
    private readonly onResult: (ok: boolean) => void,
  ) {
    const u = new URL(url);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: anycdn-healthcheck\r\n\r\n`, 'latin1');
  }

  private socket(): net.Socket {
    if (this.sock) return this.sock;
    const s = net.connect({ host: this.host, port: this.port });
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.parse(false);
    });
    const drop = () => {
      if (this.sock === s) {
        this.parse(true);
        this.sock = undefined;
        this.buf = '';
        this.finish(false);
      }
      s.destroy();
    };
    s.on('error', drop);
    s.on('close', drop);
    this.sock = s;
    return s;
  }

  /** Settles the round once a whole response is in (or the connection closed after one). */
  private parse(closed: boolean): void {
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.running) return;
    const head = this.buf.slice(0, end).toLowerCase();
    const status = /^http\/1\.[01] (\d{3})/.exec(head);
    const length = /\r\ncontent-length: *(\d+)/.exec(head);
    const chunked = /\r\ntransfer-encoding: *chunked/.test(head);
    const body = this.buf.slice(end + 4);
    let rest: string | undefined;
    if (length) rest = body.length >= Number(length[1]) ? body.slice(Number(length[1])) : undefined;
    else if (chunked) rest = /(^|\r\n)0\r\n\r\n/.test(body) ? '' : undefined;
    else rest = closed ? '' : undefined; // close-delimited
    if (rest === undefined) return;
    this.buf = rest;
    this.finish(status?.[1] === '200');
    if (/\r\nconnection: *close/.test(head)) this.sock?.destroy();
  }

  private finish(ok: boolean): void {
    if (!this.running) return;
    this.running = false;
    this.onResult(ok);
  }

  probe(): void {
    this.running = true;
    this.buf = '';
    this.socket().write(this.request);
  }

  /** No whole answer in time: a failed probe, and the connection is not reused. */
  expire(): void {
    if (!this.running) return;
    this.sock?.destroy();
    this.sock = undefined;
    this.buf = '';
    this.finish(false);
  }

  close(): void {
    this.running = false;
    this.sock?.destroy();
  }
}
