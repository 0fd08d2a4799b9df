import { join } from 'node:path';
import { dlqWorkflow, tempDir } from './dlq-workflow.ts';

dlqWorkflow({ name: 'embedded sqlite', url: `sqlite:${join(tempDir(), 'herald.db')}` });
