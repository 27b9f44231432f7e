// Word lists for synthetic users. Plain ASCII transliterations so emails and usernames stay valid.

export const FEMALE_NAMES = [
  'aigerim', 'aliya', 'dana', 'aruzhan', 'madina', 'saule', 'zhanna', 'kamila', 'asel', 'dinara',
  'gulnara', 'ainur', 'elena', 'olga', 'togzhan', 'moldir',
] as const;
export const MALE_NAMES = [
  'nursultan', 'yerlan', 'daniyar', 'askar', 'arman', 'timur', 'bauyrzhan', 'marat', 'serik',
  'alibek', 'dmitry', 'sergey', 'azamat', 'ruslan', 'kairat', 'olzhas',
] as const;
export const SURNAMES = [
  'akhmetov', 'nurlanov', 'seitkali', 'zhaksybekov', 'omarov', 'abenov', 'ivanov', 'kim',
  'tulegenov', 'bekov', 'sadykov', 'karimov', 'ismailov', 'petrov', 'yessenov', 'mukanov',
] as const;

/** [city, country, lat, lon]: mostly Kazakhstan, a few neighbours and abroad for cross-border variety. */
export const KZ_CITIES: readonly (readonly [string, string, number, number])[] = [
  ['Almaty', 'KZ', 43.2389, 76.8897], ['Astana', 'KZ', 51.1694, 71.4491],
  ['Shymkent', 'KZ', 42.3417, 69.5901], ['Karaganda', 'KZ', 49.8047, 73.1094],
  ['Aktobe', 'KZ', 50.2839, 57.167], ['Taraz', 'KZ', 42.9, 71.3667],
  ['Pavlodar', 'KZ', 52.2873, 76.9674], ['Oskemen', 'KZ', 49.9483, 82.628],
  ['Semey', 'KZ', 50.4111, 80.2275], ['Atyrau', 'KZ', 47.1164, 51.8833],
  ['Kostanay', 'KZ', 53.2198, 63.6354], ['Aktau', 'KZ', 43.6481, 51.1722],
];
export const OTHER_CITIES: readonly (readonly [string, string, number, number])[] = [
  ['Bishkek', 'KG', 42.8746, 74.5698], ['Tashkent', 'UZ', 41.2995, 69.2401],
  ['Moscow', 'RU', 55.7558, 37.6173], ['Berlin', 'DE', 52.52, 13.405],
  ['Istanbul', 'TR', 41.0082, 28.9784], ['Dubai', 'AE', 25.2048, 55.2708],
];

/** First octets of Kazakh operators' IPv4 space and IPv6 /32s (synthetic hosts inside them). */
export const IPV4_PREFIXES = ['95.56', '2.132', '37.150', '92.46', '178.89', '5.76'] as const;
export const IPV6_PREFIXES = ['2a03:32c0', '2a0b:6a00', '2a00:1a48', '2a02:2168'] as const;

export const BROWSERS = [
  'Chrome 130', 'Chrome 131', 'Firefox 131', 'Safari 18', 'Edge 130', 'Yandex 24.10', 'Opera 114',
] as const;
export const OPERATING_SYSTEMS = [
  'Android 14', 'Android 13', 'iOS 18.1', 'Windows 11', 'Windows 10', 'macOS 15', 'Ubuntu 24.04',
] as const;

export const SEARCHES = [
  'tariffs 5g almaty', 'roaming uzbekistan', 'mobile internet balance', 'esim activation',
  'home internet astana', 'top up by card', 'iphone 16 installment', 'porting my number',
  'family plan', 'tv channels list', 'wifi router settings', 'bonus points exchange',
] as const;

export const CORRESPONDENTS = [
  'support@example.kz', 'billing@example.kz', 'dpo@example.kz', 'complaints@example.kz',
] as const;
export const TOPICS = [
  'Disputed charge', 'Roaming complaint', 'Data access request', 'Number porting', 'Lost SIM card',
  'Contract question',
] as const;
