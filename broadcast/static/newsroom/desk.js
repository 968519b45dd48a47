// A highlighted word fills the pronunciation form (which works without this by typing the word).
document.addEventListener("click", function (event) {
  var button = event.target.closest(".span-btn");
  if (!button) return;
  var term = document.getElementById("id_lex_term");
  var spoken = document.getElementById("id_lex_spoken");
  if (!term || !spoken) return;
  term.value = button.dataset.term;
  spoken.value = button.dataset.spoken;
  spoken.focus();
  spoken.select();
});
