import { loadEdited } from './test/helpers/topology.ts';
import { renderTopology } from './lib/render/index.ts';
const t = loadEdited((x) => { x['sites/cdn.yaml'] = x['sites/cdn.yaml']!.replace(/origin:\n  s3:\n    bucket: .*\n    region: .*\n/, 'origin:\n  - s3: { bucket: anycdn-example-images, region: eu-west-1 }\n  - s3: { bucket: anycdn-example-images-replica, region: eu-central-1 }\n  - http: { url: "http://images.example.org:8080" }\n'); });
for (const f of renderTopology(t)) if (/sin-cache1|nyc-cache1/.test(f.host) && /nginx.conf|squid.conf/.test(f.path)) console.log(`=== ${f.host} ${f.path}\n${f.content}`);
