import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { CommandLog, commandsTopicSpec, eventsTopicSpec } from './command-log';
import { KafkaCommandLog } from './kafka-command-log';

/** The Kafka log, with timeline.commands and timeline.events created on start-up if they are missing. */
@Global()
@Module({
  providers: [
    {
      provide: CommandLog,
      inject: [TimelineConfig],
      useFactory: async (config: TimelineConfig): Promise<CommandLog> => {
        const logger = new Logger('Kafka');
        const log = new KafkaCommandLog({
          brokers: config.kafka.brokers,
          clientId: config.kafka.clientId,
          security: config.kafka.security,
          log: (level, message, extra) => logger[level](`${message} ${JSON.stringify(extra)}`),
        });
        const { commandsTopic, eventsTopic, partitions, replicationFactor } = config.kafka;
        await log.ensureTopics([commandsTopicSpec(commandsTopic, partitions, replicationFactor), eventsTopicSpec(eventsTopic, partitions, replicationFactor)]);
        return log;
      },
    },
  ],
  exports: [CommandLog],
})
export class CommandLogModule implements OnApplicationShutdown {
  constructor(@Inject(CommandLog) private readonly log: CommandLog) {}

  async onApplicationShutdown(): Promise<void> {
    await this.log.close();
  }
}
