import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeStartupFailure } from '../src/cli/startup-errors.ts';
import { loadSettings } from '../src/config.ts';

const settings = loadSettings({ VIDGATE_HOST: 'gateway.example', VIDGATE_PORT: '8080', VIDGATE_DATA_DIR: '/srv/vidgate' });
const failure = (fields: Record<string, string>) => Object.assign(new Error(fields.message ?? fields.code), fields);

// The failures a start meets that no test can cause without sending traffic off this machine, by their Node error fields.
describe('start-up failures that name their setting', () => {
  it('a VIDGATE_HOST that does not resolve, or is not an address of this machine', () => {
    assert.match(describeStartupFailure(failure({ code: 'ENOTFOUND', syscall: 'getaddrinfo', message: 'getaddrinfo ENOTFOUND gateway.example' }), settings, 'listen')!,
      /^VIDGATE_HOST: "gateway\.example" does not resolve; use an address of this machine/);
    assert.match(describeStartupFailure(failure({ code: 'EADDRNOTAVAIL', syscall: 'listen' }), settings, 'listen')!, /^VIDGATE_HOST: gateway\.example is not an address of this machine/);
    assert.match(describeStartupFailure(failure({ code: 'EACCES', syscall: 'listen' }), settings, 'listen')!, /^VIDGATE_PORT: port 8080 needs root/);
  });

  it('a data folder vidgate may not write', () => {
    assert.equal(describeStartupFailure(failure({ code: 'EACCES', path: '/srv/vidgate/vidgate.sqlite' }), settings, 'store'),
      'VIDGATE_DATA_DIR: cannot write /srv/vidgate/vidgate.sqlite (EACCES); point VIDGATE_DATA_DIR at a folder vidgate may write');
  });

  it('leaves anything else to its stack trace', () => {
    assert.equal(describeStartupFailure(new TypeError('x is undefined'), settings, 'store'), null);
    assert.equal(describeStartupFailure(failure({ code: 'ECONNREFUSED' }), settings, 'store'), null, 'no database configured: not a database failure');
  });
});
