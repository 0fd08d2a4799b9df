import { join } from 'node:path';
import { tempDir } from './cli-process.ts';
import { dlqWorkflow } from './dlq-workflow.ts';

dlqWorkflow({ name: 'embedded sqlite', url: `sqlite:${join(tempDir(), 'herald.db')}` });
