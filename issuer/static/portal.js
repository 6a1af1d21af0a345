// An offline-verifiable link carries the signed certificate after '#': say so, and keep it when
// the language changes. (The fragment never reaches the server.)
if (location.hash.length > 5) {
  var note = document.getElementById('note');
  note.textContent += ' ' + note.getAttribute('data-fragment');
  var lang = document.getElementById('lang');
  lang.href = lang.getAttribute('href') + location.hash;
}
