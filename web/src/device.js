// #/device/<thing> : the seed's aws_interact_gui in the browser. LED1–3 checkboxes set
// desired.ledN; button indicators follow reported.buttonN; the message log shows every MQTT
// message of the thing; an emulated kit's virtual board (LEDs, OLED text, clickable buttons)
// follows its control socket. Everything stays live over one SSE stream.
import { api, el, formatTime, stream } from './common.js';

const LEDS = [1, 2, 3];
const BUTTONS = [1, 2, 3];
const LOG_LIMIT = 200;

export const devicePage = {
  render(root, args) {
    const thing = args[0];
    if (!thing) {
      root.append(el('p', { class: 'error' }, 'No thing name in the address.'));
      return undefined;
    }
    const view = buildView(thing);
    root.append(view.node);

    async function refresh() {
      try {
        const device = await api('GET', '/console/api/devices/' + encodeURIComponent(thing));
        view.showDevice(device);
        if (device.kit) {
          const board = await api('GET', '/console/api/devices/' + encodeURIComponent(thing) + '/board').catch((e) => ({ error: e.message }));
          view.showBoard(board);
        } else {
          view.showBoard(null);
        }
      } catch (e) {
        if (e.status !== 401) view.error(e.message);
      }
    }

    view.onLed = async (led, on) => {
      view.log('out', `desired led${led} = ${on ? 'on' : 'off'}`);
      try {
        const shadow = await api('POST', '/console/api/devices/' + encodeURIComponent(thing) + '/desired', { ['led' + led]: on ? 'on' : 'off' });
        view.showShadow(shadow);
      } catch (e) {
        view.error(e.message);
      }
    };
    view.onPress = async (button) => {
      view.log('out', `press button ${button} on the virtual board`);
      try {
        await api('POST', '/console/api/devices/' + encodeURIComponent(thing) + '/press', { button });
      } catch (e) {
        view.error(e.message);
      }
    };

    const source = stream('thing=' + encodeURIComponent(thing), {
      open: () => { view.live(true); refresh(); },
      error: () => view.live(false),
      shadow: (doc) => view.showShadow(doc),
      board: (board) => view.showBoard(board),
      lifecycle: (event) => view.showConnected(event.connected),
      message: (message) => view.log('in', message.topic, message.payload, message.time),
      resync: () => refresh(),
    });
    refresh();
    return () => source.close();
  },
};

function buildView(thing) {
  const status = el('span', { class: 'pill', id: 'connection' }, 'unknown');
  const live = el('span', { class: 'pill muted', id: 'live' }, 'connecting…');
  const certificate = el('code', { id: 'certificate-id' }, '—');
  const certificateStatus = el('span', { id: 'certificate-status' }, '');
  const errors = el('p', { class: 'error', role: 'alert', id: 'device-error' });

  const checkboxes = {};
  const ledRows = LEDS.map((led) => {
    const box = el('input', { type: 'checkbox', id: 'led' + led, dataset: { testid: 'led-checkbox-' + led } });
    box.addEventListener('change', () => view.onLed(led, box.checked));
    checkboxes[led] = box;
    return el('label', { class: 'check' }, box, ` LED${led}`);
  });
  const indicators = {};
  const buttonRows = BUTTONS.map((button) => {
    const lamp = el('span', { class: 'indicator', id: 'button' + button, dataset: { testid: 'button-indicator-' + button, state: 'unknown' } });
    indicators[button] = lamp;
    return el('div', { class: 'indicator-row' }, lamp, ` Button ${button}: `, el('span', { class: 'value', id: 'button' + button + '-value' }, '—'));
  });

  const boardLeds = {};
  const boardLedNodes = [0, 1, 2, 3].map((led) => {
    const lamp = el('span', { class: 'led', dataset: { testid: 'board-led-' + led, state: 'off' }, title: led ? `LED${led}` : 'LED0 (SAM G55)' });
    boardLeds[led] = lamp;
    return el('div', { class: 'board-led' }, lamp, el('small', {}, 'LED' + led));
  });
  const oled = el('pre', { class: 'oled', id: 'oled', dataset: { testid: 'oled' } }, '');
  const boardButtons = {};
  const boardButtonNodes = BUTTONS.map((button) => {
    const b = el('button', { type: 'button', class: 'board-button', dataset: { testid: 'board-button-' + button, state: 'up' } }, 'SW' + button);
    b.addEventListener('click', () => view.onPress(button));
    boardButtons[button] = b;
    return b;
  });
  const kitStatus = el('p', { class: 'muted', id: 'kit-status' }, '');
  const board = el('section', { class: 'card board', id: 'virtual-board', hidden: true },
    el('h2', {}, 'Virtual board (emulated kit)'),
    el('div', { class: 'oled1' }, oled, el('div', { class: 'board-leds' }, boardLedNodes), el('div', { class: 'board-buttons' }, boardButtonNodes)),
    kitStatus);

  const logList = el('ol', { class: 'log', id: 'message-log' });

  const node = el('div', { class: 'device' },
    el('section', { class: 'card head' },
      el('h1', {}, 'Device ', el('code', { id: 'thing-name' }, thing)),
      el('p', {}, 'MQTT: ', status, ' · stream: ', live),
      el('p', {}, 'Certificate: ', certificate, ' ', certificateStatus),
      errors),
    el('div', { class: 'grid' },
      el('section', { class: 'card' }, el('h2', {}, 'LEDs (desired)'), ledRows),
      el('section', { class: 'card' }, el('h2', {}, 'Buttons (reported)'), buttonRows),
      board),
    el('section', { class: 'card' }, el('h2', {}, 'Messages'), logList));

  const view = {
    node,
    onLed: () => {},
    onPress: () => {},
    error(message) {
      errors.textContent = message;
    },
    live(on) {
      live.textContent = on ? 'live' : 'reconnecting…';
      live.className = 'pill ' + (on ? 'ok' : 'muted');
    },
    showConnected(connected) {
      status.textContent = connected ? 'connected' : 'disconnected';
      status.className = 'pill ' + (connected ? 'ok' : 'bad');
    },
    showDevice(device) {
      errors.textContent = '';
      certificate.textContent = device.certificateId || '—';
      certificateStatus.textContent = device.status ? `(${device.status})` : '';
      this.showConnected(device.connected);
      this.showShadow(device.shadow || {});
    },
    showShadow(doc) {
      const state = (doc && doc.state) || {};
      const desired = state.desired || {};
      const reported = state.reported || {};
      for (const led of LEDS) {
        const key = 'led' + led;
        // The box shows what was asked for (desired), or what the device reports before anyone asked.
        const value = desired[key] !== undefined ? desired[key] : reported[key];
        if (value !== undefined) checkboxes[led].checked = value === 'on';
      }
      for (const button of BUTTONS) {
        const value = reported['button' + button];
        if (value === undefined) continue;
        indicators[button].dataset.state = value;
        document.getElementById('button' + button + '-value').textContent = value;
      }
    },
    showBoard(snapshot) {
      if (!snapshot) {
        board.hidden = true;
        return;
      }
      board.hidden = false;
      if (snapshot.error) {
        kitStatus.textContent = 'kit unreachable: ' + snapshot.error;
        return;
      }
      for (const led of [0, 1, 2, 3]) boardLeds[led].dataset.state = snapshot['led' + led] === 'on' ? 'on' : 'off';
      for (const button of BUTTONS) boardButtons[button].dataset.state = snapshot['button' + button] === 'down' ? 'down' : 'up';
      oled.textContent = Array.isArray(snapshot.oled) ? snapshot.oled.join('\n') : '';
      const s = snapshot.status;
      kitStatus.textContent = s ? `firmware: ${s.status_msg}` : '';
    },
    log(direction, topic, payload, time) {
      const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
      logList.prepend(el('li', { class: direction },
        el('time', {}, formatTime(time || Date.now())), ' ',
        el('span', { class: 'topic' }, topic), text ? ' ' : '', text ? el('code', {}, text) : ''));
      while (logList.children.length > LOG_LIMIT) logList.lastChild.remove();
    },
  };
  return view;
}
