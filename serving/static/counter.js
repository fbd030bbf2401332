// The counter screen: listens to its counter's stream and shows the customer just
// identified there. Every value from the server is written with textContent (never as
// HTML), so nothing a record holds can run in the page.
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("counter-config").textContent);
  const LANGUAGE_KEY = "powerhall.counter.language";
  const RETRY_MS = 5000;
  const state = {
    language: config.languages.includes(localStorage.getItem(LANGUAGE_KEY))
      ? localStorage.getItem(LANGUAGE_KEY)
      : config.language,
    event: null,
  };

  const $ = (id) => document.getElementById(id);
  const label = (key) => config.labels[state.language][key] ?? key;

  function setText(element, text) {
    element.textContent = text === null || text === undefined || text === "" ? label("unknown") : String(text);
  }

  function number(value, digits = 0) {
    return new Intl.NumberFormat(state.language, { maximumFractionDigits: digits }).format(value);
  }

  function yuan(value) {
    return "¥" + number(value);
  }

  // A random key per click: the server stores an outcome once per key, so a retried
  // request is not counted twice. getRandomValues works on plain http too.
  function idempotencyKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return "counter-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function setStatus(status) {
    const element = $("status");
    element.dataset.state = status;
    element.dataset.label = status;
    element.textContent = label(status);
  }

  function relabel() {
    document.documentElement.lang = state.language;
    document.querySelectorAll("[data-label]").forEach((element) => {
      element.textContent = label(element.dataset.label);
    });
    $("language").setAttribute("aria-label", label("toggle_label"));
    document.title = `${label("title")} · ${config.hall} / ${config.counter}`;
    if (state.event) render(state.event);
  }

  function renderCustomer(session, customer, summary) {
    setText($("account-no"), customer.account_no);
    setText($("phone"), customer.phone);
    setText($("customer-id"), customer.customer_id);
    setText($("segment"), label("segment_" + customer.segment));
    setText($("tariff"), summary.tariff_name ?? summary.tariff_id);
    setText($("started-at"), new Date(session.started_at).toLocaleTimeString(state.language, { timeZone: config.timezone }));
    const kwh = summary.kwh_365d;
    setText($("kwh"), kwh === null || kwh === undefined ? null : `${number(kwh)} ${label("kwh_unit")}`);
    const trend = summary.kwh_yoy_change_90d;
    setText($("trend"), trend === null || trend === undefined ? null : `${trend > 0 ? "+" : ""}${number(trend * 100)}%`);
    const bill = summary.avg_bill_cny_365d;
    setText($("bill"), bill === null || bill === undefined ? null : `${yuan(bill)} ${label("per_bill")}`);
    const arrears = summary.arrears_cny;
    setText($("arrears"), arrears === null || arrears === undefined ? null : yuan(arrears));
  }

  function fillReasons(list, reasons) {
    list.replaceChildren(
      ...reasons.map((reason) => {
        const item = document.createElement("li");
        item.textContent = reason.text;
        return item;
      }),
    );
  }

  function renderRisks(risks) {
    const list = $("risk-list");
    if (risks.length === 0) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = label("no_risks");
      list.replaceChildren(empty);
      return;
    }
    list.replaceChildren(
      ...risks.map((risk) => {
        const item = $("risk-template").content.firstElementChild.cloneNode(true);
        item.dataset.level = risk.level;
        item.querySelector(".risk-name").textContent = label("risk_" + risk.name);
        item.querySelector(".risk-level").textContent =
          `${label("level_" + risk.level)} (${number(risk.probability * 100)}%)`;
        fillReasons(item.querySelector(".reasons"), risk.reasons);
        return item;
      }),
    );
  }

  function savingText(suggestion) {
    // Nothing to say about a saving that rounds to nothing.
    if (suggestion.saving_cny === null || suggestion.saving_cny === undefined || Math.round(suggestion.saving_cny) <= 0) return "";
    let text = `${label("saving")} ${yuan(suggestion.saving_cny)}`;
    if (suggestion.saving_p10_cny !== null && suggestion.saving_p90_cny !== null) {
      text += ` (${label("band")} ${yuan(suggestion.saving_p10_cny)}–${yuan(suggestion.saving_p90_cny)})`;
    }
    return text;
  }

  function renderSuggestion(event, suggestion) {
    const { session } = event;
    const item = $("suggestion-template").content.firstElementChild.cloneNode(true);
    item.dataset.suggestionId = suggestion.suggestion_id;
    item.dataset.kind = suggestion.kind;
    item.querySelector(".kind").textContent =
      `${label("kind_" + suggestion.kind)} · ${label("confidence")} ${number(suggestion.confidence * 100)}%`;
    item.querySelector(".suggestion-title").textContent = suggestion.title;
    item.querySelector(".message").textContent = suggestion.message;
    const saving = item.querySelector(".saving");
    saving.textContent = savingText(suggestion);
    saving.hidden = saving.textContent === "";
    item.querySelector(".script-label").textContent = label("script");
    item.querySelector(".script-text").textContent = suggestion.script;
    fillReasons(item.querySelector(".reasons"), suggestion.reasons);
    const result = item.querySelector(".result");
    const buttons = [item.querySelector(".accept"), item.querySelector(".decline")];
    const [accept, decline] = buttons;
    accept.textContent = label("accept");
    decline.textContent = label("decline");
    const recorded = session.outcomes?.[suggestion.suggestion_id];
    if (recorded) {
      buttons.forEach((button) => (button.disabled = true));
      result.dataset.state = recorded;
      result.textContent = label(recorded);
    }
    accept.addEventListener("click", () => sendFeedback(event, suggestion, "accepted", buttons, result));
    decline.addEventListener("click", () => sendFeedback(event, suggestion, "declined", buttons, result));
    return item;
  }

  // The tariff what-if panel: bills per tariff now and with a share of evening use or
  // EV charging moved to valley hours, from the simulate endpoint (the page's key cookie).
  const whatif = { open: false, customerId: null, shift: { evening_share: 0, ev_share: 0 }, request: 0 };

  function signedYuan(value) {
    return value < 0 ? `-${yuan(-value)}` : yuan(value);
  }

  // [0, 1, ..., 5, 22, 23] -> "22:00–06:00": runs of hours, wrapping past midnight.
  function hourRanges(hours) {
    const set = new Set(hours);
    if (set.size === 24) return "00:00–24:00";
    const clock = (hour) => `${String(hour).padStart(2, "0")}:00`;
    const runs = [];
    for (let hour = 0; hour < 24; hour += 1) {
      if (!set.has(hour) || set.has((hour + 23) % 24)) continue;
      let end = hour;
      while (set.has((end + 1) % 24)) end = (end + 1) % 24;
      runs.push(`${clock(hour)}–${clock((end + 1) % 24)}`);
    }
    return runs.join(", ");
  }

  function pressShares() {
    document.querySelectorAll("#whatif .shares").forEach((fieldset) => {
      fieldset.querySelectorAll("button").forEach((button) => {
        button.setAttribute("aria-pressed", String(Number(button.dataset.share) === whatif.shift[fieldset.dataset.shift]));
      });
    });
  }

  function shareButtons() {
    document.querySelectorAll("#whatif .shares").forEach((fieldset) => {
      const key = fieldset.dataset.shift;
      fieldset.append(
        ...config.shares.map((share) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "share";
          button.dataset.share = String(share);
          button.textContent = `${Math.round(share * 100)}%`;
          button.addEventListener("click", () => {
            whatif.shift = { ...whatif.shift, [key]: share };
            pressShares();
            simulate();
          });
          return button;
        }),
      );
    });
    pressShares();
  }

  function cell(text, value) {
    const element = document.createElement("td");
    element.textContent = text;
    if (value !== null && value !== undefined) element.dataset.value = String(value);
    return element;
  }

  function renderWhatif(answer) {
    $("whatif-reason").textContent = answer.reason;
    $("ev-shares").hidden = !answer.ev_charger;
    setText($("whatif-moved"), `${number(answer.moved_kwh)} ${label("kwh_unit")}`);
    setText($("whatif-valley"), hourRanges(answer.valley_hours));
    $("whatif-rows").replaceChildren(
      ...answer.tariffs.map((tariff) => {
        const row = document.createElement("tr");
        row.dataset.tariffId = tariff.tariff_id;
        row.classList.toggle("current", tariff.current);
        const name = document.createElement("th");
        name.scope = "row";
        name.textContent = tariff.name;
        if (tariff.current) {
          const tag = document.createElement("span");
          tag.className = "tag";
          tag.textContent = label("whatif_current");
          name.append(" ", tag);
        }
        const saving = tariff.saving_shifted_cny;
        const risk = tariff.bill_risk_cny;
        row.append(
          name,
          cell(yuan(tariff.bill_cny), tariff.bill_cny),
          cell(yuan(tariff.bill_shifted_cny), tariff.bill_shifted_cny),
          cell(saving === null ? label("unknown") : signedYuan(saving), saving),
          cell(risk === null || Math.round(risk) <= 0 ? label("unknown") : yuan(risk), risk),
        );
        return row;
      }),
    );
  }

  async function simulate() {
    const request = (whatif.request += 1);
    const status = $("whatif-status");
    status.dataset.state = "loading";
    status.textContent = label("whatif_loading");
    try {
      const response = await fetch(config.simulate_url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": state.language },
        body: JSON.stringify({ customer_id: whatif.customerId, shift: whatif.shift }),
      });
      if (!response.ok) throw new Error(`simulate: HTTP ${response.status}`);
      const answer = await response.json();
      if (request !== whatif.request) return; // a later choice is on its way
      status.dataset.state = "done";
      status.textContent = "";
      renderWhatif(answer);
    } catch (error) {
      if (request !== whatif.request) return;
      console.error(error);
      status.dataset.state = "failed";
      status.textContent = label("whatif_failed");
    }
  }

  function openWhatif(open) {
    whatif.open = open;
    const toggle = $("whatif-toggle");
    toggle.setAttribute("aria-expanded", String(open));
    toggle.dataset.label = open ? "whatif_close" : "whatif_open";
    toggle.textContent = label(toggle.dataset.label);
    $("whatif-body").hidden = !open;
    if (open) simulate();
  }

  // A new customer starts with nothing moved and the panel closed.
  function resetWhatif(customerId) {
    if (whatif.customerId === customerId) return;
    whatif.customerId = customerId;
    whatif.shift = { evening_share: 0, ev_share: 0 };
    whatif.request += 1;
    pressShares();
    $("whatif-rows").replaceChildren();
    $("whatif-reason").textContent = "";
    $("whatif-status").textContent = "";
    $("ev-shares").hidden = true;
    openWhatif(false);
  }

  function render(event) {
    const { session, answer } = event;
    $("waiting").hidden = true;
    $("session").hidden = false;
    const notice = $("notice");
    notice.hidden = !(answer.degraded || answer.cold_start);
    notice.textContent = answer.degraded ? label("degraded") : answer.cold_start ? label("cold_start") : "";
    renderCustomer(session, answer.customer, answer.profile_summary);
    resetWhatif(answer.customer.customer_id);
    renderRisks(answer.risks);
    const list = $("suggestion-list");
    if (answer.suggestions.length === 0) {
      const empty = document.createElement("li");
      empty.className = "card empty";
      empty.textContent = label("no_suggestions");
      list.replaceChildren(empty);
    } else {
      list.replaceChildren(...answer.suggestions.map((s) => renderSuggestion(event, s)));
    }
    setText(
      $("versions"),
      Object.entries(answer.model_versions)
        .map(([model, version]) => `${model} ${version}`)
        .join(", "),
    );
  }

  async function sendFeedback(event, suggestion, outcome, buttons, result) {
    const { session, answer } = event;
    buttons.forEach((button) => (button.disabled = true));
    result.dataset.state = "sending";
    result.textContent = label("sending");
    try {
      const response = await fetch(config.feedback_url.replace("{suggestion_id}", encodeURIComponent(suggestion.suggestion_id)), {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Accept-Language": state.language,
          "Idempotency-Key": idempotencyKey(),
        },
        body: JSON.stringify({
          outcome,
          customer_id: answer.customer.customer_id,
          hall_id: config.hall,
          counter_id: config.counter,
          staff_id: session.staff_id,
        }),
      });
      if (!response.ok) throw new Error(`feedback: HTTP ${response.status}`);
      session.outcomes = { ...session.outcomes, [suggestion.suggestion_id]: outcome };
      result.dataset.state = outcome;
      result.textContent = label(outcome);
    } catch (error) {
      console.error(error);
      buttons.forEach((button) => (button.disabled = false));
      result.dataset.state = "failed";
      result.textContent = label("failed");
    }
  }

  // The event is rendered in the language it was posted in; the screen asks again for
  // its own language when they differ.
  async function inLanguage(event) {
    if (event.language === state.language) return event;
    const url = config.session_url.replace("{session_id}", encodeURIComponent(event.session.id));
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json", "Accept-Language": state.language },
      });
      if (!response.ok) throw new Error(`session: HTTP ${response.status}`);
      const fresh = await response.json();
      // An answered suggestion leaves the next answer (the contact policy); its card
      // stays on this screen, as answered, until the next customer.
      const decided = event.session.outcomes ?? {};
      const ids = new Set(fresh.answer.suggestions.map((s) => s.suggestion_id));
      const answered = event.answer.suggestions.filter((s) => decided[s.suggestion_id] && !ids.has(s.suggestion_id));
      fresh.answer.suggestions = [...answered, ...fresh.answer.suggestions];
      fresh.session.outcomes = decided;
      return fresh;
    } catch (error) {
      console.error(error);
      return event;
    }
  }

  async function show(event) {
    const shown = await inLanguage(event);
    if (state.event && state.event.session.id > shown.session.id) return;
    state.event = shown;
    render(shown);
  }

  function connect() {
    const source = new EventSource(config.stream_url);
    source.addEventListener("ready", () => setStatus("connected"));
    source.addEventListener("session", (message) => show(JSON.parse(message.data)));
    source.addEventListener("error", () => {
      setStatus("reconnecting");
      // The browser retries a dropped stream by itself, but gives up on an error
      // answer (a restarting server behind a proxy): then try again a little later.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, RETRY_MS);
    });
  }

  $("language").addEventListener("click", () => {
    const index = config.languages.indexOf(state.language);
    state.language = config.languages[(index + 1) % config.languages.length];
    localStorage.setItem(LANGUAGE_KEY, state.language);
    relabel();
    if (state.event) show(state.event);
    if (whatif.open) simulate();
  });

  $("whatif-toggle").addEventListener("click", () => openWhatif(!whatif.open));

  shareButtons();
  relabel();
  connect();
})();
