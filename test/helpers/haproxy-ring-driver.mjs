// Runs inside `unshare --net --pid --fork --kill-child` (test/helpers/haproxy-ring.ts): loopback
// up, one tiny HTTP server per cache answering its own name, haproxy on the given config, then
// every URI through every frontend, one request at a time (so haproxy's bounded loads never
// divert one). Prints { frontend: { uri: cache } } as JSON. Everything it starts dies with it:
// it is PID 1 of its own PID namespace.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const deadline = Date.now() + spec.timeoutMs;
execFileSync('ip', ['link', 'set', 'lo', 'up']);

const servers = await Promise.all(
  Object.entries(spec.servers).map(
    ([name, port]) =>
      new Promise((resolve) => {
        const s = http.createServer((_req, res) => {
          res.setHeader('content-type', 'text/plain');
          res.end(name);
        });
        s.listen(port, '127.0.0.1', () => resolve(s));
      }),
  ),
);
const haproxy = spawn(spec.haproxy, ['-db', '-f', spec.config], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
haproxy.stderr.on('data', (d) => (stderr += d));
const fail = (why) => {
  process.stderr.write(`${why}\n${stderr}`);
  haproxy.kill('SIGKILL');
  process.exit(1);
};
haproxy.on('exit', (code) => fail(`haproxy exited (${code})`));

const listening = (port) =>
  new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('connect', () => (c.destroy(), resolve(true)));
    c.on('error', () => resolve(false));
  });
for (const port of Object.values(spec.frontends)) {
  while (!(await listening(port))) {
    if (Date.now() > deadline) fail(`haproxy did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (port, path) =>
  new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers: { host: 'img.example.net' } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: status ${res.statusCode}`))));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${path}: timeout`)));
    req.on('error', reject);
  });

const out = {};
for (const [frontend, port] of Object.entries(spec.frontends)) {
  out[frontend] = {};
  for (const uri of spec.uris) {
    if (Date.now() > deadline) fail('out of time');
    try {
      out[frontend][uri] = await get(port, uri);
    } catch (e) {
      fail(`${frontend}: ${e.message}`);
    }
  }
}
haproxy.removeAllListeners('exit');
haproxy.kill('SIGKILL');
agent.destroy();
for (const s of servers) s.close();
// Exit once the whole answer is written: stdout is a pipe, and its writes are asynchronous.
process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
