import { runRabbitMqContract } from './contract-run.ts';

await runRabbitMqContract('rabbitmq');
