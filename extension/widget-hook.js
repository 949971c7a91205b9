// Runs in the widget frame's own (MAIN) world at document_start, before the widget's scripts.
// The stock CTI driver announces nothing, so this is how the extension learns that the driver is
// bound: it wraps bindEvents() of the class (or instance) the driver sets on window.CCaaS.CTIDriver
// and, once bindEvents() has returned, raises a DOM event that the Rust probe (isolated world)
// hears. It changes nothing else and sends nothing anywhere.
(() => {
  const signal = () => {
    document.documentElement?.setAttribute('data-ccaas-driver-ready', '');
    document.dispatchEvent(new CustomEvent('ccaas-bridge:driver-ready'));
  };
  const wrap = (target) => {
    const proto = typeof target === 'function' ? target.prototype : target;
    const bind = proto && proto.bindEvents;
    if (typeof bind !== 'function' || bind.__ccaasWrapped) return target;
    const wrapped = function (...args) {
      const out = bind.apply(this, args);
      signal();
      return out;
    };
    wrapped.__ccaasWrapped = true;
    proto.bindEvents = wrapped;
    return target;
  };
  const watch = (ns) => {
    if (!ns || typeof ns !== 'object') return ns;
    let driver = ns.CTIDriver && wrap(ns.CTIDriver);
    Object.defineProperty(ns, 'CTIDriver', {
      configurable: true, enumerable: true,
      get: () => driver,
      set: (v) => { driver = wrap(v); },
    });
    return ns;
  };
  let ccaas = watch(window.CCaaS);
  Object.defineProperty(window, 'CCaaS', {
    configurable: true, enumerable: true,
    get: () => ccaas,
    set: (v) => { ccaas = watch(v); },
  });
})();
