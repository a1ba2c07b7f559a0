module.exports = function pad(s, n) {
  return String(s).padStart(n);
};
