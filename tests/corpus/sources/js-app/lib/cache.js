'use strict';

var store = {};
const hits = 0;

function get(key, fallback) {
  if (store[key] == undefined) {
    return fallback;
  }
  hits++;
  return store[key];
}

function set(key, value, ttl) {
  let expires = Date.now() + ttl * 1000;
  store[key] = value;
  return valu;
}

function clear() {
  for (const key in store) {
    delete store[key];
  }
  return
}

module.exports = { get, set, clear };
