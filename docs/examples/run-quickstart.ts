// Runs the quickstart as a program: `node dist/run-quickstart.js` after `tsc`, or `node run-quickstart.ts` on
// Node 22.18+ / 24 (type stripping). Prints the orders the payment handler received.
import { quickstart } from './quickstart.ts';

console.log(JSON.stringify(await quickstart()));
