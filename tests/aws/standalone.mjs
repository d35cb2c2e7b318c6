// standalone.mjs - running an AWS test double by hand, outside the tests.
//
// Every double (sqs_double.mjs, s3_double.mjs, comprehend_double.mjs,
// bedrock_double.mjs, ses_double.mjs) can be started from the command line
// for demos and manual checks with the same options: --port P --key K
// --secret S [--token T] [--region R], plus the double's own repeated
// option (--queue, --bucket, --model, --verified). This holds that shared
// command line and the stop-on-signal loop, so the doubles differ only in
// what they serve.

import { fileURLToPath } from 'node:url';

// True when the module at metaUrl is the program node was asked to run.
export function isMain(metaUrl) {
  return Boolean(process.argv[1]) &&
    fileURLToPath(metaUrl) === process.argv[1];
}

// The shared options as start*Double() takes them, and every value of the
// repeated option `many` (e.g. 'queue').
export function standaloneOptions(many) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  return {
    common: {
      port: Number(opt('port', '0')),
      accessKeyId: opt('key', process.env.AWS_ACCESS_KEY_ID || 'AKIDEXAMPLE'),
      secretAccessKey: opt('secret',
                           process.env.AWS_SECRET_ACCESS_KEY || 'secret'),
      sessionToken: opt('token', undefined),
      region: opt('region', 'us-east-1'),
    },
    many: many
      ? args.flatMap((a, i) => (a === `--${many}` ? [args[i + 1]] : []))
      : [],
  };
}

// Prints where the double listens and stops it on SIGTERM/SIGINT.
export function serveUntilSignal(double, banner) {
  process.stdout.write(`${banner}\n`);
  const bye = () => double.stop().then(() => process.exit(0));
  process.on('SIGTERM', bye);
  process.on('SIGINT', bye);
}
