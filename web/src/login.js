// #/login : the local cloud's access key pair (from `ztp cloud run`'s first start, or the state
// directory's `credentials` file) → session cookie. `ztp interact` links skip this page.
import { api, el, go, parseHash } from './common.js';

export const loginPage = {
  render(root) {
    const { query } = parseHash();
    const next = query.get('next') || '#/';
    const id = el('input', { id: 'access-key-id', name: 'accessKeyId', autocomplete: 'username', required: true });
    const secret = el('input', { id: 'secret-access-key', name: 'secretAccessKey', type: 'password', autocomplete: 'current-password', required: true });
    const message = el('p', { class: 'error', role: 'alert', id: 'login-error' });
    const form = el(
      'form',
      { class: 'card login' },
      el('h2', {}, 'Sign in to the local cloud'),
      el('p', { class: 'muted' }, 'Use the access key pair of ', el('code', {}, 'ztp cloud run'), ' (its state directory’s credentials file), or open the link ', el('code', {}, 'ztp interact'), ' prints.'),
      el('label', { for: 'access-key-id' }, 'Access key ID'),
      id,
      el('label', { for: 'secret-access-key' }, 'Secret access key'),
      secret,
      el('button', { type: 'submit', id: 'login-submit' }, 'Sign in'),
      message,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.textContent = '';
      try {
        await api('POST', '/console/api/login', { accessKeyId: id.value.trim(), secretAccessKey: secret.value });
        secret.value = '';
        location.hash = next.startsWith('#/') && !next.startsWith('#/login') ? next : '#/';
      } catch (e) {
        message.textContent = e.message;
      }
    });
    root.append(form);
    id.focus();
    return () => {};
  },
};
export { go };
