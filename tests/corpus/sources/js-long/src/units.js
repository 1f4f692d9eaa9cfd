const toKm = (miles) => miles * 1.609344;
const toMiles = (km) => km / 1.609344;
const toCelsius = (f) => ((f - 32) * 5) / 9;
const toFahrenheit = (c) => (c * 9) / 5 + 32;
module.exports = { toKm, toMiles, toCelsius, toFahrenheit };
