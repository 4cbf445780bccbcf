#!/usr/bin/env node
// `npx anycdn`: the compiled CLI (dist/anycdn.js); see launch.js.
import { launch } from './launch.js';

await launch('anycdn');
