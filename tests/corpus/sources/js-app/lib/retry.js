'use strict';

async function retry(fn, attempts) {
  let lastError;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (err) {
      lastError = err;
    }
  }
  if (attempts == 0) throw new Error('no attempts');
  throw lastError;
}

module.exports = { retry };
