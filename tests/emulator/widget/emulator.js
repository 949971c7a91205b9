// CCaaS widget emulator: defines window.Microsoft.CCaaS.EmbedSDK (the Embed SDK the real
// Contact Center widget gives its CTI driver), the test-control object window.__emu, the
// softphone-looking UI, and loads the CTI driver the way the real widget does
// (classic <script src>, new CCaaS.CTIDriver(sdk), await initialize(), bindEvents()).
//
// Query parameters (besides the real widget's dynamicsUrl / msdynembedmode, which are ignored):
//   driver=stock|none|ours|<name>  drivers/<name>.js; `none` loads no driver at all (default:
//                             stock); `ours` is the project's built driver, /built/ccaas-cti-driver.js
//                             (scripts/build-driver.sh; served by tests/support/server.mjs)
//   driverUrl=<path>          load this same-origin script instead (wins over `driver`)
//   driverDelay=<ms>          wait this long before loading the driver
(function () {
  'use strict';

  var params = new URLSearchParams(location.search);

  function randomHex(bytes) {
    var a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return b.toString(16).padStart(2, '0'); }).join('');
  }

  // GUID-like id (crypto.randomUUID needs a secure context; do not depend on it).
  function guid() {
    var h = randomHex(16);
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-4' + h.slice(13, 16) + '-a' + h.slice(17, 20) + '-' + h.slice(20);
  }

  // Copies call arguments / payloads so later mutation by the caller does not change the record.
  function copy(value) {
    try {
      return structuredClone(value);
    } catch (e) {
      return value;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Test-control object. Created first so the message listener below exists before any driver.
  var emu = {
    instanceId: randomHex(8),
    calls: [],          // every SDK call (not on* registrations): {module, method, args, at[, error]}
    received: [],       // every message event: {origin, data, fromParent}
    errors: [],         // uncaught errors in this window and errors thrown by event callbacks
    registrations: [],  // 'module.onX' names in the order the driver subscribed
    notifications: [],  // notifications added through notification.addNewNotification
    conversations: [],  // conversations loaded so far, with their current statusCode
    focusedConversationId: '',
    presence: null,     // current presence object (see PRESENCE_OPTIONS)
    dialed: null,       // last number accepted by ctiDriver.clickToDial
    callState: { isAgentOnHold: false, isAgentMuted: false },
    panel: { visible: null, width: null, height: null },
    driverBound: false,
    driverState: 'loading', // waiting | loading | bound | none | error
    driverError: null,
    driverSrc: null,
    driver: null        // the driver instance once constructed
  };
  window.__emu = emu;

  window.addEventListener('message', function (event) {
    emu.received.push({ origin: event.origin, data: event.data, fromParent: event.source === window.parent });
    scheduleRender();
  });

  // The stock driver JSON.parses every message without a try/catch: its failures land here.
  window.addEventListener('error', function (event) {
    emu.errors.push({
      source: 'window',
      message: event.message || String(event.error),
      name: event.error && event.error.name,
      at: performance.now()
    });
  });
  window.addEventListener('unhandledrejection', function (event) {
    var r = event.reason;
    emu.errors.push({
      source: 'unhandledrejection',
      message: r && r.message ? r.message : String(r),
      name: r && r.name,
      at: performance.now()
    });
  });

  // ---------------------------------------------------------------------------------------
  // Canned data.

  // Stable ids (GUID-like) so tests can hard-code them. Available's id is the one Microsoft's
  // SDK docs use in their setPresence example.
  var PRESENCE_OPTIONS = [
    { presenceId: 'f523f628-c07a-e811-8162-000d3aa11f50', presenceName: 'Available', presenceText: 'Available', basePresenceStatus: 'AVAILABLE', presenceColor: '#92C353', canUserSet: true },
    { presenceId: 'e9c19f47-c07a-e811-8162-000d3aa11f50', presenceName: 'Busy', presenceText: 'Busy', basePresenceStatus: 'BUSY', presenceColor: '#C4314B', canUserSet: true },
    { presenceId: '2c1a4d5b-c07a-e811-8162-000d3aa11f50', presenceName: 'Do not disturb', presenceText: 'Do not disturb', basePresenceStatus: 'BUSY_DO_NOT_DISTURB', presenceColor: '#8B1A2B', canUserSet: true },
    { presenceId: '6e4f1b68-c07a-e811-8162-000d3aa11f50', presenceName: 'Away', presenceText: 'Away', basePresenceStatus: 'AWAY', presenceColor: '#FFAA44', canUserSet: true },
    { presenceId: 'a8b5e07d-c07a-e811-8162-000d3aa11f50', presenceName: 'Offline', presenceText: 'Offline', basePresenceStatus: 'OFFLINE', presenceColor: '#8A8886', canUserSet: true }
  ];
  emu.presenceOptions = copy(PRESENCE_OPTIONS);
  emu.presence = copy(PRESENCE_OPTIONS[0]);

  // Dataverse rows; the contacts are the ones on the fake CRM pages.
  var DATAVERSE = {
    contact: [
      { contactid: '5b1d7c6e-3a2f-4e8b-9c1d-000000000001', fullname: 'Maria Garcia', telephone1: '+1 425-555-0123', mobilephone: '+14255550123', emailaddress1: 'maria.garcia@fabrikam.example' },
      { contactid: '5b1d7c6e-3a2f-4e8b-9c1d-000000000002', fullname: 'Kenji Tanaka', telephone1: '+1 (425) 555-0100', mobilephone: '+14255550100', emailaddress1: 'kenji.tanaka@fabrikam.example' },
      { contactid: '5b1d7c6e-3a2f-4e8b-9c1d-000000000003', fullname: 'Aisha Khan', telephone1: '+44 20 7946 0958', mobilephone: '+442079460958', emailaddress1: 'aisha.khan@fabrikam.example' }
    ],
    account: [
      { accountid: '7d0c3b2a-1e4f-4a5b-8c6d-000000000001', name: 'Fabrikam, Inc.', telephone1: '+1 425-555-0199', address1_city: 'Redmond' }
    ]
  };
  // Accept the logical name ('contact') or the entity set name ('contacts').
  function tableOf(entityName) {
    var name = String(entityName || '').toLowerCase();
    if (name === 'msdyn_ocliveworkitem' || name === 'msdyn_ocliveworkitems') return conversationRows();
    if (DATAVERSE[name]) return DATAVERSE[name];
    if (name.endsWith('s') && DATAVERSE[name.slice(0, -1)]) return DATAVERSE[name.slice(0, -1)];
    return null;
  }
  function idOf(row) {
    var key = Object.keys(row).find(function (k) { return /id$/.test(k) && k !== 'liveWorkStreamId'; });
    return key ? row[key] : undefined;
  }

  // Conversation rows as Dataverse (msdyn_ocliveworkitem) shapes them (IConversationData).
  function conversationRow(c) {
    return {
      activityid: c.liveWorkItemId,
      msdyn_ocliveworkitemid: c.liveWorkItemId,
      msdyn_channel: c.conversationType === 'Voice' ? '192440000' : '192360000',
      msdyn_createdon: c.createdTimeStamp,
      msdyn_startedon: c.createdTimeStamp,
      msdyn_isoutbound: false,
      msdyn_title: c.customerName,
      subject: (c.conversationType || 'Conversation') + ' with ' + c.customerName,
      statecode: c.statusCode === 4 ? 1 : 0,
      statuscode: c.statusCode,
      msdyn_transfercount: 0
    };
  }
  function conversationRows() {
    return emu.conversations.map(conversationRow);
  }
  function findConversation(id) {
    return emu.conversations.find(function (c) { return c.liveWorkItemId === id; }) || null;
  }

  // ---------------------------------------------------------------------------------------
  // SDK plumbing.

  function record(module, method, args) {
    var entry = { module: module, method: method, args: copy(args), at: performance.now() };
    emu.calls.push(entry);
    scheduleRender();
    return entry;
  }

  // An SDK call: recorded, then run. A throw or a rejection is noted on the record (`error`)
  // and still reaches the caller. The functions never use `this`: the stock driver passes
  // `sdk.ctiDriver.clickToDial` around unbound.
  function api(module, method, impl) {
    return function () {
      var args = Array.prototype.slice.call(arguments);
      var entry = record(module, method, args);
      try {
        var result = impl.apply(null, args);
        if (result && typeof result.then === 'function') {
          result.then(null, function (err) { entry.error = err && err.message ? err.message : String(err); });
        }
        return result;
      } catch (err) {
        entry.error = err && err.message ? err.message : String(err);
        throw err;
      }
    };
  }

  // Event registrations ('module.onX' -> callbacks). Registrations are not recorded in calls.
  var handlers = new Map();
  function on(module, name) {
    var key = module + '.' + name;
    handlers.set(key, []);
    return function (callback) {
      if (typeof callback !== 'function') throw new TypeError(key + ': callback must be a function');
      handlers.get(key).push(callback);
      emu.registrations.push(key);
    };
  }

  // Side effects an event has on the emulator's own state (what the UI and the getters show).
  function applyEvent(name, payload) {
    var p = payload || {};
    switch (name) {
      case 'conversation.onConversationLoaded': {
        var existing = findConversation(p.liveWorkItemId);
        if (existing) Object.assign(existing, copy(p));
        else emu.conversations.push(Object.assign(copy(p), { statusCode: 2 }));
        emu.focusedConversationId = p.liveWorkItemId || '';
        break;
      }
      case 'conversation.onStatusChange': {
        var c = findConversation(p.liveWorkItemId);
        if (c) c.statusCode = p.statusCode;
        break;
      }
      case 'presence.onPresenceChange':
        if (p.presenceId) emu.presence = copy(p);
        break;
      case 'voiceOrVideoCalling.onHoldChange':
        emu.callState.isAgentOnHold = !!p.isAgentOnHold;
        break;
      case 'voiceOrVideoCalling.onMuteChange':
        emu.callState.isAgentMuted = !!p.isAgentMuted;
        break;
      case 'ctiDriver.onSoftPhonePanelVisibilityChange':
        emu.panel.visible = payload;
        break;
      case 'ctiDriver.onSoftPhonePanelWidthChange':
        emu.panel.width = payload;
        break;
      case 'ctiDriver.onSoftPhonePanelHeightChange':
        emu.panel.height = payload;
        break;
      default:
        break;
    }
  }

  // Fires the callbacks registered for `name` (e.g. 'conversation.onConversationLoaded')
  // synchronously, each with its own copy of `payload`. A throwing callback is recorded in
  // emu.errors and does not stop the others. Returns how many callbacks ran.
  function raise(name, payload) {
    if (!handlers.has(name)) {
      throw new Error('unknown SDK event "' + name + '"; known: ' + Array.from(handlers.keys()).join(', '));
    }
    applyEvent(name, payload);
    scheduleRender();
    var list = handlers.get(name).slice();
    list.forEach(function (callback) {
      try {
        callback(copy(payload));
      } catch (err) {
        emu.errors.push({
          source: 'callback',
          event: name,
          message: err && err.message ? err.message : String(err),
          name: err && err.name,
          at: performance.now()
        });
      }
    });
    return list.length;
  }

  // ---------------------------------------------------------------------------------------
  // window.Microsoft.CCaaS.EmbedSDK

  var DIAL_NUMBER = /^\+?[0-9]{7,15}$/;

  var ctiDriver = {
    clickToDial: api('ctiDriver', 'clickToDial', function (payload) {
      if (!payload || typeof payload !== 'object') throw new Error('clickToDial: payload {number} is required');
      var number = payload.number;
      if (number === undefined || number === null || number === '') throw new Error('clickToDial: number is required');
      if (typeof number !== 'string') throw new Error('clickToDial: number must be a string');
      if (!DIAL_NUMBER.test(number)) throw new Error('clickToDial: malformed number "' + number + '"');
      emu.dialed = number;
      scheduleRender();
    }),
    onSoftPhonePanelVisibilityChange: on('ctiDriver', 'onSoftPhonePanelVisibilityChange'),
    onSoftPhonePanelWidthChange: on('ctiDriver', 'onSoftPhonePanelWidthChange'),
    onSoftPhonePanelHeightChange: on('ctiDriver', 'onSoftPhonePanelHeightChange')
  };

  var conversation = {
    onConversationLoaded: on('conversation', 'onConversationLoaded'),
    onTransfer: on('conversation', 'onTransfer'),
    onStatusChange: on('conversation', 'onStatusChange'),
    onNewMessage: on('conversation', 'onNewMessage'),
    onAccept: on('conversation', 'onAccept'),
    onReject: on('conversation', 'onReject'),
    onConsultStart: on('conversation', 'onConsultStart'),
    onConsultEnd: on('conversation', 'onConsultEnd'),
    onCustomerSentimentChange: on('conversation', 'onCustomerSentimentChange'),
    onNotesAdded: on('conversation', 'onNotesAdded'),

    // ITranscriptMessage[]
    getTranscript: api('conversation', 'getTranscript', function (liveWorkItemId) {
      var c = findConversation(liveWorkItemId);
      if (!c) return Promise.reject(new Error('getTranscript: unknown conversation "' + liveWorkItemId + '"'));
      var t0 = Date.parse(c.createdTimeStamp) || Date.now();
      return Promise.resolve([
        {
          id: liveWorkItemId + '-m1', content: 'Hello, this is Contoso support. How can I help?', mode: 'external',
          createdOn: new Date(t0 + 5000).toISOString(),
          sender: { user: { displayName: 'Agent (emulator)', id: 'agent-emulator' } }, attachmentInfo: []
        },
        {
          id: liveWorkItemId + '-m2', content: 'Hi, I am calling about my renewal quote.', mode: 'external',
          createdOn: new Date(t0 + 12000).toISOString(),
          sender: { user: { displayName: c.customerName, id: 'customer' } }, attachmentInfo: []
        }
      ]);
    }),

    // Partial<IConversationData> with the requested columns (unknown columns are left out).
    getConversationData: api('conversation', 'getConversationData', function (liveWorkItemId, columns) {
      var c = findConversation(liveWorkItemId);
      if (!c) return Promise.reject(new Error('getConversationData: unknown conversation "' + liveWorkItemId + '"'));
      var row = conversationRow(c);
      var out = {};
      (Array.isArray(columns) ? columns : Object.keys(row)).forEach(function (k) {
        if (Object.prototype.hasOwnProperty.call(row, k)) out[k] = row[k];
      });
      return Promise.resolve(out);
    }),

    // [{liveWorkItemId}] of the conversations in that status (2 Active by default).
    getAssignedConversationsList: api('conversation', 'getAssignedConversationsList', function (status) {
      var wanted = status === undefined ? 2 : Number(status);
      return Promise.resolve(emu.conversations
        .filter(function (c) { return c.statusCode === wanted; })
        .map(function (c) { return { liveWorkItemId: c.liveWorkItemId }; }));
    }),

    // '' when no conversation has been loaded yet.
    getFocusedConversationId: api('conversation', 'getFocusedConversationId', function () {
      return Promise.resolve(emu.focusedConversationId || '');
    }),

    // Not in the reference list, but Microsoft's generic sample calls it on wrap-up.
    getCopilotSummary: api('conversation', 'getCopilotSummary', function (liveWorkItemId) {
      if (!findConversation(liveWorkItemId)) return Promise.reject(new Error('getCopilotSummary: unknown conversation'));
      return Promise.resolve({ liveWorkItemId: liveWorkItemId, summary: 'Customer asked about the renewal quote.' });
    })
  };

  var presence = {
    getPresence: api('presence', 'getPresence', function () {
      return Promise.resolve(copy(emu.presence));
    }),
    getPresenceOptions: api('presence', 'getPresenceOptions', function () {
      return Promise.resolve(copy(PRESENCE_OPTIONS));
    }),
    // Promise<void>; sets the presence and fires onPresenceChange. Rejects for an unknown id.
    setPresence: api('presence', 'setPresence', function (presenceId) {
      var option = PRESENCE_OPTIONS.find(function (o) { return o.presenceId === presenceId; });
      if (!option) return Promise.reject(new Error('setPresence: unknown presenceId "' + presenceId + '"'));
      raise('presence.onPresenceChange', copy(option));
      return Promise.resolve();
    }),
    onPresenceChange: on('presence', 'onPresenceChange')
  };

  var voiceOrVideoCalling = {
    onHoldChange: on('voiceOrVideoCalling', 'onHoldChange'),
    onMuteChange: on('voiceOrVideoCalling', 'onMuteChange')
  };

  var notification = {
    // Promise<string> (the notification id); shows it and fires onNewNotification.
    addNewNotification: api('notification', 'addNewNotification', function (options) {
      if (!options || typeof options.message !== 'string') {
        return Promise.reject(new Error('addNewNotification: {level, message} is required'));
      }
      var n = { notificationId: guid(), notificationOptions: { level: options.level, message: options.message } };
      emu.notifications.push(n);
      raise('notification.onNewNotification', n);
      return Promise.resolve(n.notificationId);
    }),
    onNewConversationNotification: on('notification', 'onNewConversationNotification'),
    onNewNotification: on('notification', 'onNewNotification')
  };

  var dataverse = {
    // Entity; rejects when the table or the row does not exist. `options` is not interpreted.
    retrieveRecord: api('dataverse', 'retrieveRecord', function (entityName, id) {
      var rows = tableOf(entityName);
      if (!rows) return Promise.reject(new Error('retrieveRecord: unknown table "' + entityName + '"'));
      var row = rows.find(function (r) { return idOf(r) === id; });
      if (!row) return Promise.reject(new Error('retrieveRecord: no ' + entityName + ' with id "' + id + '"'));
      return Promise.resolve(copy(row));
    }),
    // {entities: [...]} with every row of the table; `options` is not interpreted.
    retrieveMultipleRecords: api('dataverse', 'retrieveMultipleRecords', function (entityName) {
      var rows = tableOf(entityName);
      if (!rows) return Promise.reject(new Error('retrieveMultipleRecords: unknown table "' + entityName + '"'));
      return Promise.resolve({ entities: copy(rows) });
    })
  };

  var sdk = {
    ctiDriver: ctiDriver,
    conversation: conversation,
    presence: presence,
    voiceOrVideoCalling: voiceOrVideoCalling,
    notification: notification,
    dataverse: dataverse
  };
  window.Microsoft = window.Microsoft || {};
  window.Microsoft.CCaaS = window.Microsoft.CCaaS || {};
  window.Microsoft.CCaaS.EmbedSDK = sdk;

  // ---------------------------------------------------------------------------------------
  // Test control.

  emu.raise = raise;

  // Raises conversation.onConversationLoaded with a realistic voice call, merged with
  // `overrides` (an override whose value is undefined removes that key). Returns the payload.
  emu.loadConversation = function (overrides) {
    var payload = {
      liveWorkItemId: guid(),
      conversationType: 'Voice',
      createdTimeStamp: new Date().toISOString(),
      sessionId: guid(),
      customerName: 'Maria Garcia',
      customerPhoneNumber: '+14255550123'
    };
    var o = overrides || {};
    Object.keys(o).forEach(function (k) {
      if (o[k] === undefined) delete payload[k];
      else payload[k] = o[k];
    });
    raise('conversation.onConversationLoaded', payload);
    return payload;
  };

  // Forgets what was recorded (calls, received messages, errors, notifications); keeps the
  // state (presence, conversations, driver).
  emu.clear = function () {
    emu.calls.length = 0;
    emu.received.length = 0;
    emu.errors.length = 0;
    emu.notifications.length = 0;
    scheduleRender();
  };

  // Names of all SDK events raise() accepts.
  emu.events = function () {
    return Array.from(handlers.keys());
  };

  // How many callbacks are registered for an event (0 for none / unknown).
  emu.listenerCount = function (name) {
    return handlers.has(name) ? handlers.get(name).length : 0;
  };

  // ---------------------------------------------------------------------------------------
  // UI (text only, rendered at most once per task).

  var renderPending = false;
  function scheduleRender() {
    if (renderPending) return;
    renderPending = true;
    setTimeout(function () {
      renderPending = false;
      render();
    }, 0);
  }

  function $(id) {
    return document.getElementById(id);
  }

  function render() {
    if (!document.body) return;
    var p = emu.presence || {};
    $('presence-dot').style.background = p.presenceColor || '#8A8886';
    $('presence-text').textContent = p.presenceText || p.presenceName || 'Unknown';

    var focused = findConversation(emu.focusedConversationId);
    var conv = $('conversation');
    conv.textContent = '';
    if (focused) {
      conv.className = '';
      var strong = document.createElement('strong');
      strong.textContent = focused.customerName || 'Customer';
      conv.appendChild(strong);
      var line = document.createElement('span');
      line.className = 'muted';
      var status = focused.statusCode === 4 ? 'closed' : focused.statusCode === 5 ? 'wrap-up' : 'active';
      line.textContent = (focused.conversationType || '') + ' · ' + (focused.customerPhoneNumber || 'no number') + ' · ' + status;
      conv.appendChild(line);
    } else {
      conv.className = 'muted';
      conv.textContent = 'No active conversation';
    }
    var cs = [];
    if (emu.callState.isAgentOnHold) cs.push('On hold');
    if (emu.callState.isAgentMuted) cs.push('Muted');
    $('call-state').textContent = cs.join(' · ');

    var display = $('dial-display');
    display.textContent = emu.dialed || 'Enter a number';
    display.setAttribute('data-empty', emu.dialed ? 'false' : 'true');

    var note = $('notification');
    var lastNote = emu.notifications[emu.notifications.length - 1];
    note.hidden = !lastNote;
    note.textContent = lastNote ? lastNote.notificationOptions.message : '';

    var list = $('calls');
    list.textContent = '';
    emu.calls.slice(-8).reverse().forEach(function (c) {
      var li = document.createElement('li');
      var args;
      try {
        args = c.args.map(function (a) { return JSON.stringify(a); }).join(', ');
      } catch (e) {
        args = '…';
      }
      li.textContent = c.module + '.' + c.method + '(' + args + ')' + (c.error ? ' ✗ ' + c.error : '');
      if (c.error) li.className = 'error';
      list.appendChild(li);
    });

    var state = emu.driverState;
    var text = 'Driver: ' + state;
    if (state === 'error' && emu.driverError) text += ' — ' + emu.driverError;
    if ((state === 'loading' || state === 'waiting') && emu.driverSrc) text += ' (' + emu.driverSrc + ')';
    $('driver-status').textContent = text;
    $('instance').textContent = '#' + emu.instanceId;
  }

  // ---------------------------------------------------------------------------------------
  // Driver loading, as the real widget does it.

  function setDriverState(state, error) {
    emu.driverState = state;
    if (error) emu.driverError = error;
    scheduleRender();
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement('script');
      script.src = src;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error('could not load ' + src)); };
      document.head.appendChild(script);
    });
  }

  // Resolves the driver script URL from the query, or null for driver=none.
  function driverSource() {
    var url = params.get('driverUrl');
    if (url !== null) {
      var u = new URL(url, location.href);
      if (u.origin !== location.origin) throw new Error('driverUrl must be same-origin: ' + url);
      return u.pathname + u.search;
    }
    var name = params.get('driver') || 'stock';
    if (name === 'none') return null;
    if (name === 'ours') return '/built/ccaas-cti-driver.js';
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error('bad driver name: ' + name);
    return new URL('drivers/' + name + '.js', location.href).pathname;
  }

  async function startDriver() {
    var src;
    try {
      src = driverSource();
    } catch (err) {
      setDriverState('error', err.message);
      return;
    }
    if (src === null) {
      setDriverState('none');
      return;
    }
    emu.driverSrc = src;

    var delay = Number(params.get('driverDelay') || 0);
    if (delay > 0) {
      setDriverState('waiting');
      await new Promise(function (resolve) { setTimeout(resolve, delay); });
    }
    setDriverState('loading');

    try {
      await loadScript(src);
      var Driver = window.CCaaS && window.CCaaS.CTIDriver;
      if (typeof Driver !== 'function') throw new Error('the driver did not set window.CCaaS.CTIDriver to a class');
      var driver = new Driver(sdk);
      emu.driver = driver;
      var ok = await driver.initialize();
      if (ok === false) throw new Error('initialize() resolved false');
      driver.bindEvents();
      emu.driverBound = true;
      setDriverState('bound');
    } catch (err) {
      console.error('[ccaas emulator] driver failed:', err);
      setDriverState('error', err && err.message ? err.message : String(err));
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', render);
  } else {
    render();
  }
  startDriver();
})();
