// The application module, with the logger mode's own module in pino mode (nestjs-pino and pino-http).
'use strict';
const { Module } = require('@nestjs/common');
const { TypeOrmModule } = require('@nestjs/typeorm');
const { LoggerModule } = require('nestjs-pino');
const config = require('./config');
const { CreditsService, CreditAccount } = require('./credits.service');
const { RedisService } = require('./redis.service');
const { StripeWebhookController, StripeWebhookService } = require('./stripe-webhook');
const { ClipsController, HealthController } = require('./clips.controller');

class AppModule {}

function appModule(logMode) {
  const imports = [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: config.databaseUrl(),
      entities: [CreditAccount],
      synchronize: true,
      retryAttempts: 5,
      retryDelay: 1000,
    }),
  ];
  if (logMode === 'pino') {
    imports.push(LoggerModule.forRoot({ pinoHttp: { level: 'info', quietReqLogger: true } }));
  }
  Module({
    imports,
    controllers: [StripeWebhookController, ClipsController, HealthController],
    providers: [CreditsService, RedisService, StripeWebhookService],
  })(AppModule);
  return AppModule;
}

module.exports = { appModule };
