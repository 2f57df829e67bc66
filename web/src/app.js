// The console's single-page shell: hash routes → pages. A page is
// { render(root, args, query) → cleanup function | undefined, nav: label or undefined }.
import './style.css';
import { api, el, parseHash } from './common.js';
import { loginPage } from './login.js';
import { devicePage } from './device.js';
import { homePage } from './home.js';

// Pages by first hash segment (#/device/<thing>, #/login, #/fleet …). The fleet view registers
// itself here as `fleet`.
export const pages = {
  '': homePage,
  login: loginPage,
  device: devicePage,
};

let cleanup = null;

function renderNav(current) {
  const nav = document.getElementById('nav');
  nav.replaceChildren(
    ...Object.entries(pages)
      .filter(([, page]) => page.nav)
      .map(([name, page]) => el('a', { href: '#/' + name, class: name === current ? 'active' : undefined }, page.nav)),
  );
}

function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.error(e);
    }
    cleanup = null;
  }
  const { page, args, query } = parseHash();
  const root = document.getElementById('page');
  root.replaceChildren();
  renderNav(page);
  const handler = pages[page];
  if (!handler) {
    root.append(el('p', { class: 'error' }, 'No page ' + page));
    return;
  }
  document.getElementById('logout').hidden = page === 'login';
  cleanup = handler.render(root, args, query) || null;
}

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api('POST', '/console/api/logout');
  } finally {
    location.hash = '#/login';
  }
});
window.addEventListener('hashchange', route);
route();
