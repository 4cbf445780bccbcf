// Preloaded into a benchmarked node process (node --import): at exit, writes the process's peak
// resident memory (getrusage maxrss, KiB) to the file named by ANYCDN_BENCH_PEAK.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  const file = process.env.ANYCDN_BENCH_PEAK;
  if (file) writeFileSync(file, String(process.resourceUsage().maxRSS));
});
