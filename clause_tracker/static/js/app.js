// Progressive enhancement only: every page works without script.
// Buttons marked data-confirm ask before submitting their form.
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button && button.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// An import running as a job: its page asks for the progress every two seconds and
// reloads itself once the job has ended (without script, the page's link reloads it).
const importStatus = document.querySelector("[data-import-status]");
if (importStatus) {
  const bar = importStatus.querySelector("progress");
  const text = importStatus.querySelector("[data-import-text]");
  const poll = async () => {
    const response = await fetch(importStatus.dataset.importStatus,
                                 {headers: {Accept: "application/json"}});
    if (!response.ok) {
      return;
    }
    const state = await response.json();
    if (state.finished) {
      window.location.reload();
      return;
    }
    if (state.rows_expected) {
      bar.max = state.rows_expected;
      bar.value = Math.min(state.rows_checked, state.rows_expected);
    }
    text.textContent = state.text;
    window.setTimeout(poll, 2000);
  };
  window.setTimeout(poll, 2000);
}
