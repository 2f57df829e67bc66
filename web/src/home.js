// #/ : open a device page by thing name (the fleet view lists them all).
import { el, go } from './common.js';

export const homePage = {
  render(root) {
    const input = el('input', { id: 'thing-name', placeholder: 'thing name', autocomplete: 'off', required: true });
    const form = el(
      'form',
      { class: 'card', onsubmit: (e) => { e.preventDefault(); go('/device/' + encodeURIComponent(input.value.trim())); } },
      el('h2', {}, 'Open a device'),
      el('label', { for: 'thing-name' }, 'Thing name'),
      input,
      el('button', { type: 'submit' }, 'Open'),
    );
    root.append(form);
  },
};
