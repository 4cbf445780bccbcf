# Test images for test/thumbnailer/service.test.ts, made with the thumbnailer's own libvips engine
# (so the test needs nothing the thumbnailer does not): make-images.py PROGRAM OUT_DIR
import importlib.util, sys, os
spec = importlib.util.spec_from_file_location('thumb', sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
out = sys.argv[2]
e = m.Engine({'quality': {'jpeg': 85, 'webp': 80, 'avif': 50, 'avifEffort': 2}})
def img(op, **kw):
    o = e.run(op, **kw); i = e.out(o, 'out'); return i
def save(i, op, name, **kw):
    o = e.run(op, in_=i, **kw); open(os.path.join(out, name), 'wb').write(e.out(o, 'buffer').get())
# a noisy photo-like picture, as JPEG and PNG
noise = img('gaussnoise', width=1024, height=683, sigma=20.0, mean=128.0)
save(noise, 'jpegsave_buffer', 'photo.jpg', Q=85)
save(noise, 'pngsave_buffer', 'photo.png')
small = img('gaussnoise', width=100, height=80, sigma=20.0, mean=128.0)
save(small, 'jpegsave_buffer', 'small.jpg', Q=85)
# a decompression bomb: 36 megapixels of black in a few KiB
save(img('black', width=6000, height=6000, bands=3), 'pngsave_buffer', 'bomb.png')
# slow to encode as AVIF at effort 9: what holds the only worker in the busy test
big = img('gaussnoise', width=4096, height=4096, sigma=30.0, mean=128.0)
save(big, 'jpegsave_buffer', 'big.jpg', Q=40)
