// NestJS in plain JavaScript: the decorators TypeScript would apply, applied by hand (no build step), and the
// constructor parameter types TypeScript would emit as `design:paramtypes` for dependency injection.
'use strict';
require('reflect-metadata');

function injectable(cls, decorators, dependencies = []) {
  Reflect.decorate([...decorators, Reflect.metadata('design:paramtypes', dependencies)], cls);
  return cls;
}

function route(cls, method, decorators, parameters = []) {
  const descriptor = Object.getOwnPropertyDescriptor(cls.prototype, method);
  Reflect.decorate(decorators, cls.prototype, method, descriptor);
  parameters.forEach((parameter, index) => parameter(cls.prototype, method, index));
}

module.exports = { injectable, route };
