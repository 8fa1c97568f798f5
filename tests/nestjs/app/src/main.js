// clipforge-api, small: `LOG_MODE=text|json|pino node src/main.js`. Text is NestJS's ConsoleLogger as it prints in
// a container (colours on, no TTY), json its JSON mode (NestJS 11), pino nestjs-pino with pino-http's request logs.
'use strict';
require('reflect-metadata');
const { ConsoleLogger, Logger } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { Logger: PinoLogger } = require('nestjs-pino');
const config = require('./config');
const { appModule } = require('./app.module');

function accessLog() {
  // the access log ClipForge's HTTP middleware prints in the NestJS modes (pino-http prints its own in pino mode)
  const logger = new Logger('HTTP');
  return (request, response, next) => {
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const ms = Number((process.hrtime.bigint() - started) / 1000000n);
      const size = response.get('content-length') || 0;
      const agent = request.get('user-agent') || '-';
      logger.log(`${request.method} ${request.originalUrl} ${response.statusCode} ${ms}ms - ${size}b - ${request.ip} "${agent}"`);
    });
    next();
  };
}

async function bootstrap() {
  const mode = config.logMode;
  const options = { rawBody: true };
  if (mode === 'json') options.logger = new ConsoleLogger({ json: true });
  if (mode === 'pino') options.bufferLogs = true;
  const app = await NestFactory.create(appModule(mode), options);
  if (mode === 'pino') {
    app.useLogger(app.get(PinoLogger));
  } else {
    app.use(accessLog());
  }
  app.enableShutdownHooks();
  // careless start-up lines, as services print them: the DSN with its password, the Stripe keys (logpipe must
  // redact them in whatever it outputs)
  new Logger('Bootstrap').log(`Database: ${config.databaseUrl()}`);
  new Logger('Bootstrap').log(`Stripe: key ${config.stripeSecretKey()}, webhook secret ${config.stripeWebhookSecret()}`);
  await app.listen(config.port, '127.0.0.1');
  new Logger('Bootstrap').log(`clipforge-api listening on http://127.0.0.1:${config.port} (log mode ${mode})`);
}

bootstrap();
