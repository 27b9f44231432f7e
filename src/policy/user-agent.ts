// RULES 30: browser / operating system -> family and major version only ("Chrome 120",
// "Windows 10", "macOS 10"). Accepts a full User-Agent header or a short "Family 1.2.3" form. A
// shape not recognised here is null, and the projection drops and counts it: an unknown string
// is never passed on, because a rare or custom agent string is itself a quasi-identifier.

// A User-Agent header is rarely over 300 characters; longer input is not a shape we know.
const MAX_LENGTH = 512;

interface Family {
  name: string;
  /** Matched against the whole value; group 1, when present, holds the version. */
  pattern: RegExp;
}

const major = (version: string | undefined) => {
  const m = version === undefined ? null : /^\d{1,5}/.exec(version);
  return m ? String(Number(m[0])) : null;
};

// Order matters: Edge, Opera, Yandex and Samsung agents also say "Chrome/…" and "Safari/…";
// Chrome on iOS says CriOS, Firefox on iOS FxiOS; Safari's own version is in "Version/…".
const BROWSERS: readonly Family[] = [
  { name: 'Edge', pattern: /\b(?:Edg|Edge|EdgA|EdgiOS)(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Opera', pattern: /\b(?:OPR|Opera)(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Yandex', pattern: /\b(?:YaBrowser|Yandex)(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Samsung Internet', pattern: /\b(?:SamsungBrowser|Samsung Internet)(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Vivaldi', pattern: /\bVivaldi(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Firefox', pattern: /\b(?:Firefox|FxiOS)(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Chrome', pattern: /\b(?:Chrome|CriOS)(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Chromium', pattern: /\bChromium(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Safari', pattern: /\bVersion\/(\d[\d.]*).*\bSafari\b/i },
  { name: 'Safari', pattern: /\bSafari(?:[/ ](\d[\d.]*))?(?![\w-])/i },
  { name: 'Internet Explorer', pattern: /\b(?:MSIE |Trident\/.*\brv:|Internet Explorer ?)(\d[\d.]*)?/i },
];

/** RULES 30: "Chrome 120" from "Mozilla/5.0 … Chrome/120.0.6099.129 …" or "Chrome 120.0.6099"; null if unknown. */
export function browserFamily(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return null;
  for (const { name, pattern } of BROWSERS) {
    const m = pattern.exec(value);
    if (!m) continue;
    const v = major(m[1]);
    return v === null ? name : `${name} ${v}`;
  }
  return null;
}

// Windows NT kernel numbers name the release ("NT 6.1" is Windows 7); NT 10.0 covers 10 and 11.
const WINDOWS_NT: Readonly<Record<string, string>> = {
  '10.0': '10', '6.3': '8', '6.2': '8', '6.1': '7', '6.0': 'Vista', '5.2': 'XP', '5.1': 'XP',
};

type OsRule = (value: string) => string | null | undefined; // undefined: not this family

const named = (name: string, pattern: RegExp): OsRule => (value) => {
  const m = pattern.exec(value);
  if (!m) return undefined;
  const v = major(m[1]);
  return v === null ? name : `${name} ${v}`;
};

// Order matters: iOS agents say "like Mac OS X", Android agents say "Linux".
const SYSTEMS: readonly OsRule[] = [
  named('iOS', /\b(?:iPhone|iPod|iPad)\b.*?\bOS (\d+)(?:[_.]\d+)*\b/i),
  named('iPadOS', /\biPadOS(?:[/ ](\d[\d.]*))?(?![\w-])/i),
  named('iOS', /\biOS(?:[/ ](\d[\d.]*))?(?![\w-])/i),
  named('Android', /\bAndroid(?:[/ ](\d[\d.]*))?(?![\w-])/i),
  named('HarmonyOS', /\bHarmonyOS(?:[/ ](\d[\d.]*))?(?![\w-])/i),
  (value) => {
    const nt = /\bWindows NT (\d+\.\d+)\b/i.exec(value);
    if (nt) return WINDOWS_NT[nt[1]!] === undefined ? null : `Windows ${WINDOWS_NT[nt[1]!]}`;
    const plain = /\bWindows(?: (\d+(?:\.\d+)?|XP|Vista))?(?![\w-])/i.exec(value);
    if (!plain) return undefined;
    const v = plain[1];
    if (v === undefined) return 'Windows';
    return /^\d/.test(v) ? `Windows ${major(v)}` : `Windows ${v.toUpperCase() === 'XP' ? 'XP' : 'Vista'}`;
  },
  named('macOS', /\b(?:Mac OS X|macOS|OS X)(?: (\d+)(?:[_.]\d+)*)?(?![\w-])/i),
  named('ChromeOS', /\b(?:CrOS|Chrome ?OS)(?![\w-])()/i), // the CrOS build number is no product version
  named('Ubuntu', /\bUbuntu(?:[/ ](\d[\d.]*))?(?![\w-])/i),
  named('Debian', /\bDebian(?:[/ ](\d[\d.]*))?(?![\w-])/i),
  named('Fedora', /\bFedora(?:[/ ](\d[\d.]*))?(?![\w-])/i),
  named('Linux', /\bLinux(?![\w-])()/i), // a kernel version would be finer than a family
];

/** RULES 30: "Windows 10" from "Windows NT 10.0" or "Windows 10", "macOS 10" from "Mac OS X 10_15_7"; null if unknown. */
export function osFamily(value: unknown): string | null {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return null;
  for (const rule of SYSTEMS) {
    const out = rule(value);
    if (out !== undefined) return out;
  }
  return null;
}
