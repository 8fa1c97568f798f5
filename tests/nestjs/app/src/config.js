// The app's settings, from its environment (as its container gets them).
'use strict';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

module.exports = {
  logMode: process.env.LOG_MODE || 'text', // text | json | pino
  port: Number(process.env.PORT || 3000),
  databaseUrl: () => required('DATABASE_URL'),
  redisUrl: () => required('REDIS_URL'),
  stripeSecretKey: () => required('STRIPE_SECRET_KEY'),
  stripeWebhookSecret: () => required('STRIPE_WEBHOOK_SECRET'),
};
