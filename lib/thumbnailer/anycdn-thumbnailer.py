# anycdn-thumbnailer: derived images (images.transforms) for the nginx cache of this host, with
# libvips through GObject introspection (Debian: python3-gi, gir1.2-vips-8.0, libvips42). Shipped
# byte for byte in the host's bundle and run by Debian's python3 (3.11) with no other dependency.
#
# A long-lived service on loopback, reached by this host's nginx alone. It starts no process per
# image: a few worker processes, started once, each run one transform at a time, and the server
# hands them the originals. A worker is a process of its own so that a transform can be stopped:
# one that overruns its time is killed and replaced (the only time a process starts after the
# service is up), and a decoder that crashes takes only its worker with it.
#
#   GET <pathPrefix>/<width>/<path of the original>        (HEAD too)
#   X-Anycdn-Format: avif | webp | (absent or empty: the original's own format)
#
#   1. the width must be listed and the path canonical (nginx and haproxy check first: 400 here too)
#   2. the original comes from this host's nginx on loopback (originals.port), that is from its
#      cache, the shield or the origin, and is cached there as itself; at most maxSourceBytes
#   3. a free worker within queueTimeoutSec, else 503 (busy)
#   4. the worker reads the header only, refuses what is not a JPEG, PNG, GIF, WebP or AVIF image,
#      an animation (more than one frame), and what has more than maxSourcePixels pixels (a
#      decompression bomb) with 415, then shrinks
#      it with libvips' thumbnail (shrink-on-load for JPEG and WebP: the decoder skips what the
#      width does not need) and encodes the asked format; at most timeoutSec, else 503
#   5. 200 with the image, its Content-Type, the original's Cache-Control and Last-Modified, and
#      Vary: Accept when formats are negotiated. An original no wider than the width is sent as it
#      is (never enlarged) unless another format was asked for.
#
# The original's 403, 404 and 410 are passed on (the caches keep them as cache.validSec says);
# every other failure is 415 (this original cannot be made smaller), 502 (the original could not
# be read) or 503 (busy, too slow, a worker died), each with Cache-Control: no-store.
#
# `--check-config FILE` checks the config and that libvips loads and encodes every format it
# names (AVIF needs libheif's AV1 encoder), and prints FILE:LINE:COL: key: message per problem.
# SIGHUP re-reads the config: new settings, new workers, the old ones finish what they have;
# a new listen address, port or maxConnections needs a restart.
import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time

PROGRAM = os.path.abspath(__file__)
FORMATS = ('avif', 'webp')
CONTENT_TYPES = {'jpeg': 'image/jpeg', 'png': 'image/png', 'gif': 'image/gif', 'webp': 'image/webp', 'avif': 'image/avif'}
# The libvips loaders a worker may run: every other loader (and every "untrusted" one: SVG, PDF,
# ImageMagick, ...) is blocked, so a crafted file of another format never reaches its decoder.
LOADERS = {'VipsForeignLoadJpegBuffer': 'jpeg', 'VipsForeignLoadPngBuffer': 'png', 'VipsForeignLoadNsgifBuffer': 'gif', 'VipsForeignLoadWebpBuffer': 'webp', 'VipsForeignLoadHeifBuffer': 'avif'}
ALLOWED_CLASSES = ('VipsForeignLoadJpeg', 'VipsForeignLoadPng', 'VipsForeignLoadNsgif', 'VipsForeignLoadWebp', 'VipsForeignLoadHeif')
HEALTH_PATH = '/.anycdn/thumbnailer'


def log(msg):
    sys.stderr.write(f'anycdn-thumbnailer: {msg}\n')
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# The config


def _int(c, key, lo, hi, errors, where=None):
    v = (where if where is not None else c).get(key.split('.')[-1])
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        errors.append((key, f'must be a whole number {lo}..{hi}, got {json.dumps(v)}'))
        return lo
    return v


def parse_config(text):
    """The config as a dict, or a list of (key, message) problems."""
    try:
        c = json.loads(text)
    except ValueError as e:
        return [('', f'not JSON: {e}')]
    if not isinstance(c, dict):
        return [('', 'must be a JSON object')]
    errors = []
    known = {'//', 'listen', 'originals', 'pathPrefix', 'widths', 'formats', 'vary', 'quality', 'maxSourceBytes', 'maxSourcePixels', 'timeoutSec', 'queueTimeoutSec', 'workers', 'maxConnections'}
    for k in c:
        if k not in known:
            errors.append((k, f'unknown key; known: {", ".join(sorted(known - {"//"}))}'))
    for section, keys in (('listen', ('address', 'port')), ('originals', ('address', 'port', 'host', 'timeoutSec'))):
        s = c.get(section)
        if not isinstance(s, dict):
            errors.append((section, 'must be an object'))
            continue
        for k in s:
            if k not in keys:
                errors.append((f'{section}.{k}', f'unknown key; known: {", ".join(keys)}'))
        if s.get('address') not in ('127.0.0.1', '::1'):
            errors.append((f'{section}.address', f'must be a loopback address (127.0.0.1 or ::1), got {json.dumps(s.get("address"))}'))
        _int(c, f'{section}.port', 1, 65535, errors, s)
        if section == 'originals':
            if not isinstance(s.get('host'), str) or not re.fullmatch(r'[A-Za-z0-9.-]{1,253}', s.get('host') or ''):
                errors.append(('originals.host', f'must be the image host name, got {json.dumps(s.get("host"))}'))
            _int(c, 'originals.timeoutSec', 1, 3600, errors, s)
    if not isinstance(c.get('pathPrefix'), str) or not re.fullmatch(r'/[a-z0-9_-]{1,32}', c.get('pathPrefix') or ''):
        errors.append(('pathPrefix', f'must be one path segment such as /_w, got {json.dumps(c.get("pathPrefix"))}'))
    w = c.get('widths')
    if not isinstance(w, list) or not w or not all(isinstance(x, int) and not isinstance(x, bool) and 16 <= x <= 4096 for x in w):
        errors.append(('widths', f'must be a list of whole numbers 16..4096, got {json.dumps(w)}'))
    f = c.get('formats')
    if not isinstance(f, list) or not all(x in FORMATS for x in f) or len(set(f)) != len(f):
        errors.append(('formats', f'must list each of {", ".join(FORMATS)} at most once, got {json.dumps(f)}'))
    if not isinstance(c.get('vary'), bool):
        errors.append(('vary', f'must be true or false, got {json.dumps(c.get("vary"))}'))
    q = c.get('quality')
    if not isinstance(q, dict):
        errors.append(('quality', 'must be an object'))
    else:
        for k in q:
            if k not in ('jpeg', 'webp', 'avif', 'avifEffort'):
                errors.append((f'quality.{k}', 'unknown key; known: jpeg, webp, avif, avifEffort'))
        for k in ('jpeg', 'webp', 'avif'):
            _int(c, f'quality.{k}', 1, 100, errors, q)
        _int(c, 'quality.avifEffort', 0, 9, errors, q)
    _int(c, 'maxSourceBytes', 1, 1 << 30, errors)
    _int(c, 'maxSourcePixels', 1, 1 << 31, errors)
    _int(c, 'timeoutSec', 1, 600, errors)
    _int(c, 'queueTimeoutSec', 1, 600, errors)
    _int(c, 'workers', 1, 64, errors)
    _int(c, 'maxConnections', 1, 4096, errors)
    return errors or c


def located(text, key):
    """line:col of the key in the JSON text, each dotted part searched after the one before it
    (originals.address is the "address" inside "originals"); 1:1 when it is not there."""
    at, found = 0, None
    for name in [k for k in key.split('.') if k]:
        m = re.compile(r'"' + re.escape(name) + r'"\s*:').search(text, at)
        if not m:
            break
        at, found = m.end(), m.start()
    if found is None:
        return 1, 1
    return text.count('\n', 0, found) + 1, found - (text.rfind('\n', 0, found) + 1) + 1


# ---------------------------------------------------------------------------------------------
# The engine (worker side)


def load_vips():
    import gi  # noqa: E402 (python3-gi)

    gi.require_version('Vips', '8.0')
    from gi.repository import GObject, Vips  # noqa: E402 (gir1.2-vips-8.0)

    if Vips.init('anycdn-thumbnailer') != 0:
        raise RuntimeError('libvips did not start: ' + Vips.error_buffer())
    Vips.block_untrusted_set(True)
    Vips.Operation.block_set('VipsForeignLoad', True)
    for cls in ALLOWED_CLASSES:
        Vips.Operation.block_set(cls, False)
    # One transform at a time per worker, each image new: no threads of its own, no cache.
    Vips.concurrency_set(1)
    Vips.cache_set_max(0)
    Vips.cache_set_max_mem(0)
    Vips.cache_set_max_files(0)
    return GObject, Vips


class Refused(Exception):
    """An original this service will not shrink: 415."""


class Engine:
    def __init__(self, cfg):
        self.GObject, self.Vips = load_vips()
        self.cfg = cfg

    def run(self, name, **props):
        """Builds one libvips operation and returns (op, outputs by name)."""
        GObject, Vips = self.GObject, self.Vips
        op = Vips.Operation.new(name)
        for k, v in props.items():
            GObject.Object.set_property(op, k.rstrip('_').replace('_', '-'), v)
        built = Vips.cache_operation_build(op)
        if built is None:
            msg = Vips.error_buffer().strip().replace('\n', '; ')
            Vips.error_clear()
            raise Refused(msg or f'{name} failed')
        return built

    def out(self, op, name):
        return self.GObject.Object.get_property(op, name)

    def source_type(self, data):
        loader = self.Vips.Foreign.find_load_buffer(data)
        kind = LOADERS.get(loader or '')
        if kind == 'avif' and data[8:12] not in (b'avif', b'avis'):
            kind = None
        if kind is None:
            raise Refused('not a JPEG, PNG, GIF, WebP or AVIF image')
        return kind, loader

    def header(self, data, kind):
        """Width and height from the header alone: no pixel is decoded."""
        nick = {'jpeg': 'jpegload_buffer', 'png': 'pngload_buffer', 'gif': 'gifload_buffer', 'webp': 'webpload_buffer', 'avif': 'heifload_buffer'}[kind]
        op = self.run(nick, buffer=self.Vips.Blob.copy(data))
        img = self.out(op, 'out')
        op.unref_outputs()
        # An animation would lose all but its first frame: refused rather than silently stilled.
        pages = img.get_n_pages()
        if pages > 1:
            raise Refused(f'an animated or multi-page image ({pages} frames): derived images are single frames')
        return img.get_width(), img.get_height()

    def encode(self, img, fmt):
        q = self.cfg['quality']
        V = self.Vips
        if fmt == 'jpeg':
            op = self.run('jpegsave_buffer', in_=img, Q=q['jpeg'], strip=True, optimize_coding=True, interlace=True)
        elif fmt == 'png':
            op = self.run('pngsave_buffer', in_=img, strip=True)
        elif fmt == 'gif':
            op = self.run('gifsave_buffer', in_=img, strip=True)
        elif fmt == 'webp':
            op = self.run('webpsave_buffer', in_=img, Q=q['webp'], strip=True)
        else:
            op = self.run('heifsave_buffer', in_=img, Q=q['avif'], effort=q['avifEffort'], compression=V.ForeignHeifCompression.AV1, bitdepth=8, strip=True)
        blob = self.out(op, 'buffer')
        op.unref_outputs()
        return blob.get()

    def transform(self, data, width, fmt):
        """(content type, bytes) or None for "send the original as it is"."""
        kind, _ = self.source_type(data)
        w, h = self.header(data, kind)
        if w * h > self.cfg['maxSourcePixels']:
            raise Refused(f'{w}x{h} is {w * h} pixels, more than maxSourcePixels ({self.cfg["maxSourcePixels"]})')
        target = fmt or kind
        if w <= width and target == kind:
            return None
        # export_profile: an original with an ICC profile is converted to sRGB before the profile is stripped
        op = self.run('thumbnail_buffer', buffer=self.Vips.Blob.copy(data), width=min(width, w), height=10000000, size=self.Vips.Size.DOWN, export_profile='srgb')
        img = self.out(op, 'out')
        op.unref_outputs()
        return CONTENT_TYPES[target], self.encode(img, target)

    def trial(self, fmt):
        """Encodes a small picture as `fmt`: proves the encoder is there."""
        op = self.run('black', width=8, height=8, bands=3)
        img = self.out(op, 'out')
        op.unref_outputs()
        return self.encode(img, fmt)


# Frames between the server and a worker: a 4-byte length, then that many bytes; a message is a
# JSON header frame and a body frame.


def write_msg(fd, header, body=b''):
    h = json.dumps(header).encode()
    data = struct.pack('>I', len(h)) + h + struct.pack('>I', len(body)) + body
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd, n, deadline=None):
    chunks = []
    while n > 0:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError()
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            raise EOFError()
        chunks.append(b)
        n -= len(b)
    return b''.join(chunks)


def read_msg(fd, deadline=None):
    (n,) = struct.unpack('>I', read_exact(fd, 4, deadline))
    header = json.loads(read_exact(fd, n, deadline))
    (n,) = struct.unpack('>I', read_exact(fd, 4, deadline))
    return header, read_exact(fd, n, deadline)


def worker_main():
    """A worker: the config first, then one job after another from stdin, each answer to stdout."""
    # The answers go to a private copy of stdout; fd 1 becomes stderr, so nothing a library prints
    # can corrupt a frame.
    fin, fout = sys.stdin.fileno(), os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    cfg, _ = read_msg(fin)
    engine = Engine(cfg)
    while True:
        try:
            job, data = read_msg(fin)
        except EOFError:
            return 0
        try:
            made = engine.transform(data, job['width'], job['format'])
            if made is None:
                write_msg(fout, {'status': 200, 'asIs': True})
            else:
                write_msg(fout, {'status': 200, 'type': made[0]}, made[1])
        except Refused as e:
            write_msg(fout, {'status': 415, 'reason': str(e)})


# ---------------------------------------------------------------------------------------------
# The server


class Worker:
    def __init__(self, cfg):
        self.proc = subprocess.Popen([sys.executable, '-I', '-B', PROGRAM, '--worker'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, close_fds=True)
        write_msg(self.proc.stdin.fileno(), cfg)

    def kill(self):
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()


class Pool:
    """The workers of one config. A reload makes a new pool; the old one's workers end as they come back."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.idle = []
        self.cond = threading.Condition()
        self.retired = False
        for _ in range(cfg['workers']):
            self.idle.append(Worker(cfg))

    def take(self, timeout):
        with self.cond:
            if not self.cond.wait_for(lambda: self.idle, timeout):
                return None
            return self.idle.pop()

    def give(self, w):
        with self.cond:
            if self.retired:
                w.kill()
                return
            self.idle.append(w)
            self.cond.notify()

    def replace(self, w):
        """A worker that overran or died: kill it, start another in its place."""
        w.kill()
        if not self.retired:
            self.give(Worker(self.cfg))

    def retire(self):
        with self.cond:
            self.retired = True
            idle, self.idle = self.idle, []
        for w in idle:
            w.kill()


class State:
    def __init__(self, cfg):
        self.lock = threading.Lock()
        self.pool = Pool(cfg)
        self.counts = {'made': 0, 'asIs': 0, 'refused': 0, 'busy': 0, 'timeouts': 0, 'crashed': 0, 'badOriginal': 0}

    def count(self, k):
        with self.lock:
            self.counts[k] += 1


STATE = None


def fetch_original(cfg, path):
    """(status, body, headers) of the original from this host's nginx, at most maxSourceBytes."""
    o = cfg['originals']
    conn = http.client.HTTPConnection(o['address'], o['port'], timeout=o['timeoutSec'])
    try:
        conn.request('GET', path, headers={'Host': o['host'], 'Accept': '*/*', 'User-Agent': 'anycdn-thumbnailer'})
        r = conn.getresponse()
        if r.status != 200:
            r.read(65536)
            return r.status, b'', r
        length = r.getheader('Content-Length')
        if length is not None and length.isdigit() and int(length) > cfg['maxSourceBytes']:
            return 413, b'', r
        body = r.read(cfg['maxSourceBytes'] + 1)
        if len(body) > cfg['maxSourceBytes']:
            return 413, b'', r
        return 200, body, r
    finally:
        conn.close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'anycdn-thumbnailer'
    sys_version = ''
    timeout = 75

    def log_message(self, fmt, *args):  # nginx logs every request; this logs only problems
        pass

    def reply(self, status, body=b'', ctype='text/plain', headers=(), head=False):
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def fail(self, status, why, head):
        log(f'{status} {self.path}: {why}')
        self.reply(status, f'{why}\n'.encode(), headers=[('Cache-Control', 'no-store')], head=head)

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def serve(self, head):
        state = STATE
        pool = state.pool
        cfg = pool.cfg
        path = self.path.split('?', 1)[0]
        if path == HEALTH_PATH:
            body = json.dumps({'workers': cfg['workers'], **state.counts}).encode() + b'\n'
            return self.reply(200, body, 'application/json', head=head)
        prefix = cfg['pathPrefix']
        m = re.fullmatch(re.escape(prefix) + r'/([1-9][0-9]{0,3})(/[^/].*)', path)
        if not m or int(m.group(1)) not in cfg['widths'] or m.group(2).startswith(prefix + '/'):
            return self.reply(400, b'not a derived image path\n', headers=[('Cache-Control', 'no-store')], head=head)
        width, source = int(m.group(1)), m.group(2)
        fmt = (self.headers.get('X-Anycdn-Format') or '').strip()
        if fmt and fmt not in cfg['formats']:
            return self.reply(400, f'format {fmt!r} is not offered\n'.encode(), headers=[('Cache-Control', 'no-store')], head=head)
        try:
            status, data, orig = fetch_original(cfg, source)
        except (OSError, http.client.HTTPException) as e:
            state.count('badOriginal')
            return self.fail(502, f'the original {source} could not be read: {e}', head)
        if status == 413:
            state.count('refused')
            return self.fail(415, f'the original is larger than maxSourceBytes ({cfg["maxSourceBytes"]})', head)
        if status in (403, 404, 410):
            return self.reply(status, f'the original answered {status}\n'.encode(), head=head)
        if status != 200:
            state.count('badOriginal')
            return self.fail(502, f'the original {source} answered {status}', head)
        w = pool.take(cfg['queueTimeoutSec'])
        if w is None:
            state.count('busy')
            return self.fail(503, f'busy: no worker free within {cfg["queueTimeoutSec"]} s', head)
        try:
            write_msg(w.proc.stdin.fileno(), {'width': width, 'format': fmt}, data)
            answer, body = read_msg(w.proc.stdout.fileno(), time.monotonic() + cfg['timeoutSec'])
        except TimeoutError:
            state.count('timeouts')
            pool.replace(w)
            return self.fail(503, f'the transform took longer than timeoutSec ({cfg["timeoutSec"]} s)', head)
        except (EOFError, OSError, ValueError) as e:
            state.count('crashed')
            pool.replace(w)
            return self.fail(503, f'the worker died on this image ({type(e).__name__}); it was replaced', head)
        pool.give(w)
        if answer['status'] != 200:
            state.count('refused')
            return self.fail(415, answer.get('reason', 'refused'), head)
        headers = [(k, orig.getheader(k)) for k in ('Cache-Control', 'Last-Modified') if orig.getheader(k)]
        if cfg['vary']:
            headers.append(('Vary', 'Accept'))
        if answer.get('asIs'):
            state.count('asIs')
            return self.reply(200, data, orig.getheader('Content-Type') or 'application/octet-stream', headers, head)
        state.count('made')
        self.reply(200, body, answer['type'], headers, head)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, family, limit):
        self.address_family = family
        self.slots = threading.BoundedSemaphore(limit)
        super().__init__(addr, Handler)

    def server_bind(self):
        # HTTPServer's own would look the address up in DNS (getfqdn) for a name nobody reads.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):
        # At most maxConnections at once: one more is closed at once rather than queued unbounded.
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


def load(file):
    with open(file, encoding='utf-8') as f:
        text = f.read()
    c = parse_config(text)
    return (c, text) if isinstance(c, dict) else (None, [(k, m, *located(text, k)) for k, m in c])


def check(file, engine=True):
    """The --check-config mode: 0 when the config and the engine are fine, 1 with a line per problem."""
    try:
        c, info = load(file)
    except OSError as e:
        print(f'{file}:1:1: cannot read: {e.strerror}', file=sys.stderr)
        return 1
    if c is None:
        for k, m, line, col in info:
            print(f'{file}:{line}:{col}: {k + ": " if k else ""}{m}', file=sys.stderr)
        return 1
    if engine:
        try:
            e = Engine(c)
        except (ImportError, ValueError, RuntimeError) as err:
            print(f'{file}:1:1: libvips through GObject introspection cannot load ({err}): install python3-gi and gir1.2-vips-8.0', file=sys.stderr)
            return 1
        problems = []
        for fmt in ['jpeg', 'png', 'gif', 'webp'] + list(c['formats']):
            try:
                e.trial(fmt)
            except Refused as err:
                problems.append(f'{fmt}: libvips cannot encode it here ({err})' + ('; AVIF needs libheif with an AV1 encoder (Debian: libheif1 with libaom3)' if fmt == 'avif' else ''))
        if problems:
            line, col = located(info, 'formats')
            for p in problems:
                print(f'{file}:{line}:{col}: formats: {p}', file=sys.stderr)
            return 1
    return 0


def main(argv):
    if argv[:1] == ['--worker']:
        return worker_main()
    if argv[:1] == ['--check-config'] and len(argv) == 2:
        return check(argv[1])
    if len(argv) != 1 or argv[0].startswith('-'):
        print('usage: anycdn-thumbnailer [--check-config] CONFIG.json', file=sys.stderr)
        return 2
    file = argv[0]
    if check(file, engine=False) != 0:
        return 1
    cfg, _ = load(file)
    global STATE
    STATE = State(cfg)
    listen = cfg['listen']

    server = Server((listen['address'], listen['port']), socket.AF_INET6 if ':' in listen['address'] else socket.AF_INET, cfg['maxConnections'])

    def reload(*_):
        try:
            c, info = load(file)
        except OSError as e:
            return log(f'reload refused, running on: {file}: {e.strerror}')
        if c is None:
            return log(f'reload refused, running on: {file}:{info[0][2]}:{info[0][3]}: {info[0][0]}: {info[0][1]}')
        if c['listen'] != STATE.pool.cfg['listen'] or c['maxConnections'] != STATE.pool.cfg['maxConnections']:
            return log('reload refused, running on the old config: a new listen address, port or maxConnections needs a restart')
        old, STATE.pool = STATE.pool, Pool(c)
        old.retire()
        log('reloaded: new settings and workers')

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=reload, daemon=True).start())
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f'listening on {listen["address"]}:{listen["port"]} with {cfg["workers"]} workers')
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        STATE.pool.retire()
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
