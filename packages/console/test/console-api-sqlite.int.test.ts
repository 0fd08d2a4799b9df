import { join } from 'node:path';
import { consoleApiScenario, tempDir } from './console-api.ts';

consoleApiScenario({ name: 'the embedded log', url: `sqlite:${join(tempDir(), 'herald.db')}` });
