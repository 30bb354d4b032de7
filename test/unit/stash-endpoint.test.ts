import { describe, expect, it } from 'vitest';
import { endpointError, endpointProblem, redactUrl, stashEndpoint } from '../../stash/endpoint.js';
import { StashEndpointError } from '../../stash/errors.js';

describe('stashEndpoint', () => {
  it.each([
    ['http://host:9999', 'http://host:9999/graphql'],
    ['http://host:9999/', 'http://host:9999/graphql'],
    ['http://host:9999/graphql', 'http://host:9999/graphql'],
    ['http://host:9999/graphql/', 'http://host:9999/graphql'],
    ['http://host:9999//', 'http://host:9999/graphql'],
    ['https://host', 'https://host/graphql'],
    ['http://host/stash', 'http://host/stash/graphql'],
    ['http://host/stash/', 'http://host/stash/graphql'],
    ['http://host/stash/graphql/', 'http://host/stash/graphql'],
    ['http://host/mygraphql', 'http://host/mygraphql/graphql'],
    ['http://host:9999/graphql?apikey=k', 'http://host:9999/graphql?apikey=k'],
    ['http://host:9999?apikey=k', 'http://host:9999/graphql?apikey=k'],
    ['http://host:9999/#ui', 'http://host:9999/graphql'],
  ])('%s → %s', (url, endpoint) => {
    expect(stashEndpoint(url)).toBe(endpoint);
  });

  it('is idempotent', () => {
    for (const url of ['http://host:9999', 'http://host/stash/', 'http://host:9999/graphql/?apikey=k']) {
      expect(stashEndpoint(stashEndpoint(url))).toBe(stashEndpoint(url));
    }
  });

  it.each(['not a url', 'ftp://host/stash', ''])('refuses %j with a StashEndpointError naming STASH_URL', (url) => {
    expect(() => stashEndpoint(url)).toThrow(StashEndpointError);
    expect(() => stashEndpoint(url)).toThrow(/^STASH_URL .* is not an http\(s\) URL/);
  });
});

describe('redactUrl', () => {
  it('masks an apikey parameter and a password, and leaves anything else as given', () => {
    expect(redactUrl('http://host:9999/graphql?ApiKey=s3cret&x=1')).toBe('http://host:9999/graphql?ApiKey=***&x=1');
    expect(redactUrl('http://user:pw@host/stash')).toBe('http://user:***@host/stash');
    expect(redactUrl('http://host:9999')).toBe('http://host:9999');
    expect(redactUrl('nope s3cret')).toBe('(not a URL)');
  });
});

describe('endpointError', () => {
  it('is one line naming STASH_URL, what was tried and the forms that work, never the key', () => {
    const error = endpointError('http://host:9999/stash?apikey=s3cret', 'answered HTTP 404');
    expect(error).toBeInstanceOf(StashEndpointError);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'STASH_URL http://host:9999/stash?apikey=***: POST http://host:9999/stash/graphql?apikey=*** answered HTTP 404 ' +
        "(not a Stash GraphQL endpoint); set STASH_URL to Stash's base URL (e.g. http://host:9999) or its /graphql endpoint",
    );
    expect(error.message).not.toMatch(/s3cret|\n/);
  });
});

describe('endpointProblem', () => {
  it.each([
    [404, 'text/plain', null, 'answered HTTP 404'],
    [405, '', null, 'answered HTTP 405'],
    [200, 'text/html; charset=utf-8', '<!doctype html><html></html>', 'answered HTTP 200 with an HTML page'],
    [200, 'text/plain', '  <html>', 'answered HTTP 200 with an HTML page'],
    [400, 'text/plain', 'Bad Request', 'answered HTTP 400 with a text/plain body that is not JSON'],
    [200, '', 'ok', 'answered HTTP 200 with a body that is not JSON'],
    [200, 'text/plain; charset=utf-8', 'OK', 'answered HTTP 200 with a text/plain body that is not JSON'],
  ])('HTTP %i %j %j: %s', (status, contentType, body, problem) => {
    expect(endpointProblem(status, contentType, body)).toBe(problem);
  });

  it.each([
    [500, 'text/html', '<html>Internal Server Error</html>'],
    [502, 'text/html', '<html>Bad Gateway</html>'],
    [503, 'text/plain', 'Service Unavailable'],
    [429, 'text/plain', 'Too Many Requests'],
    [408, 'text/plain', 'Request Timeout'],
    [401, '', ''],
    [403, 'text/html', '<html>Forbidden</html>'],
    [200, 'application/json', '{"data":{"vers'],
    [200, 'application/graphql-response+json', null],
    [200, 'text/plain', '{"data":{}}'],
    [200, 'text/plain', ''],
    [422, 'application/json', '{"errors":[]}'],
  ])('HTTP %i %j %j is not a configuration error', (status, contentType, body) => {
    expect(endpointProblem(status, contentType, body)).toBeNull();
  });
});
