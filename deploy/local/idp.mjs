#!/usr/bin/env node
/*
 * idp.mjs - the local identity provider of `make run`: cognito-local's
 * server, started in this process exactly as its own bin/start.js starts it
 * (HOST, PORT, data in ./.cognito of the working directory), with two
 * additions that make the dashboard's account screens usable on one box:
 *
 *   1. Codes reach a mailbox. cognito-local only prints confirmation and
 *      reset codes to its console. With ECHOSTREAM_IDP_SMTP=host:port each
 *      e-mail it would send (sign-up confirmation, a new confirmation code,
 *      forgot password, e-mail verification) is also sent by SMTP to that
 *      server - the local mail catcher under `make run` - so a person (or a
 *      browser test) reads it from the inbox like a real one. The console
 *      box is still printed. A failed send is logged and never fails the
 *      request: the code is in the console log either way.
 *
 *   2. ResendConfirmationCode, which cognito-local 5.3 lacks (it answers
 *      "Unsupported x-amz-target"), so "Send a new code" works: a fresh
 *      code for an unconfirmed user, delivered like the sign-up one.
 *
 *   3. ConfirmSignUp verifies the e-mail, as Cognito does when the code
 *      went to that address (the pool auto-verifies e-mail): cognito-local
 *      confirms the user but leaves email_verified unset, so tokens say
 *      the address is unproven and the API refuses the user's invites
 *      (403 email_not_verified) - a new member could never join a team.
 *
 * Without ECHOSTREAM_IDP_SMTP nothing is mailed, and apart from (2) this
 * behaves as cognito-local does.
 *
 * cognito-local is CommonJS; it is loaded with createRequire (never
 * `import` of CJS internals, never require() of an ES module), so this runs
 * under Node 18's module rules (--no-experimental-require-module). The
 * wrapping is done on prototypes before the server is created, so the
 * sender instance cognito-local makes for itself carries it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import https from 'node:https';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const LIB = join(dirname(require.resolve('cognito-local/package.json')),
    'lib');
/* pino and friends as cognito-local itself resolves them */
const libRequire = createRequire(join(LIB, 'bin', 'start.js'));

const { ConsoleMessageSender } = require(
    join(LIB, 'services', 'messageDelivery', 'consoleMessageSender.js'));
const { MessagesService } = require(join(LIB, 'services', 'messages.js'));
const { selectAppropriateDeliveryMethod } = require(
    join(LIB, 'services', 'messageDelivery', 'deliveryMethod.js'));
const { Targets } = require(join(LIB, 'targets', 'targets.js'));
const errors = require(join(LIB, 'errors.js'));
const { attribute, attributesAppend, attributeValue } = require(
    join(LIB, 'services', 'userPoolService.js'));
const { createDefaultServer } = require(join(LIB, 'server', 'index.js'));

const FROM = 'EchoStream <no-reply@echostream.local>';

/*
 * What each kind of message says, by the "source" cognito-local passes to
 * its message service (the same names Cognito gives its CustomMessage
 * trigger). The sender is not told the source, so deliver() below keeps it
 * in an AsyncLocalStorage for the duration of the delivery.
 */
const KINDS = {
    SignUp: 'confirm',
    ResendCode: 'confirm',
    ForgotPassword: 'reset',
    UpdateUserAttribute: 'verify',
    VerifyUserAttribute: 'verify',
    AdminCreateUser: 'temporary',
};
const TEXTS = {
    confirm: {
        subject: 'Your EchoStream confirmation code',
        text: (code) => `Your EchoStream confirmation code is ${code}\n\n` +
            'Enter it on the "Confirm your e-mail" screen of the ' +
            'dashboard to finish creating your account.\n\n' +
            'If you did not sign up for EchoStream, ignore this e-mail.\n',
    },
    reset: {
        subject: 'Your EchoStream password reset code',
        text: (code) => `Your EchoStream password reset code is ${code}\n\n` +
            'Enter it on the "Reset your password" screen of the ' +
            'dashboard, with your new password.\n\n' +
            'If you did not ask to reset your password, ignore this ' +
            'e-mail: your password has not been changed.\n',
    },
    verify: {
        subject: 'Your EchoStream verification code',
        text: (code) => `Your EchoStream verification code is ${code}\n\n` +
            'Enter it in the dashboard to confirm this e-mail address.\n',
    },
    temporary: {
        subject: 'Your EchoStream temporary password',
        text: (code) => `Your EchoStream temporary password is ${code}\n\n` +
            'Sign in with it; you will be asked to choose a new one.\n',
    },
};

/* host:port of ECHOSTREAM_IDP_SMTP, null when unset; exits on a bad one. */
function smtpTarget(value) {
    if (!value) return null;
    const m = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(value);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
        process.stderr.write(`idp: ECHOSTREAM_IDP_SMTP=${value} is not ` +
            'host:port (e.g. 127.0.0.1:1025)\n');
        process.exit(2);
    }
    return { host: m[1], port };
}

const smtp = smtpTarget(process.env.ECHOSTREAM_IDP_SMTP);
const delivery = new AsyncLocalStorage();

/*
 * One transport for the life of the process. The mail catcher is a local,
 * plain SMTP server: no TLS, no authentication. Short timeouts, because a
 * sign-up waits for its mail (so the code is in the inbox when the
 * request returns) and a hung catcher must not hang it for long.
 */
let transport = null;
function mailer() {
    if (!transport) {
        const nodemailer = require('nodemailer');
        transport = nodemailer.createTransport({
            host: smtp.host,
            port: smtp.port,
            secure: false,
            ignoreTLS: true,
            connectionTimeout: 5000,
            greetingTimeout: 5000,
            socketTimeout: 10000,
        });
    }
    return transport;
}

if (smtp) {
    const deliver = MessagesService.prototype.deliver;
    MessagesService.prototype.deliver = function (ctx, source, ...rest) {
        return delivery.run({ source }, () =>
            deliver.call(this, ctx, source, ...rest));
    };

    const sendEmail = ConsoleMessageSender.prototype.sendEmail;
    ConsoleMessageSender.prototype.sendEmail = async function (
        ctx, user, destination, message) {
        await sendEmail.call(this, ctx, user, destination, message);
        const source = delivery.getStore()?.source;
        const texts = TEXTS[KINDS[source] ?? 'confirm'];
        try {
            await mailer().sendMail({
                from: FROM,
                to: destination,
                subject: texts.subject,
                text: texts.text(message.__code),
            });
            ctx.logger.info(`mailed the ${source ?? 'unknown'} code to ` +
                `${destination} via ${smtp.host}:${smtp.port}`);
        } catch (err) {
            ctx.logger.error(`could not mail the ${source ?? 'unknown'} ` +
                `code to ${destination} via ${smtp.host}:${smtp.port}: ` +
                `${err.message} (the code is in the box above)`);
        }
    };
}

/*
 * ResendConfirmationCode as Cognito answers it: a new code replaces the
 * old one and goes where the sign-up code went; unknown users and
 * confirmed users are errors.
 */
Targets.ResendConfirmationCode = ({ cognito, clock, messages, otp }) =>
    async (ctx, req) => {
        const userPool = await cognito.getUserPoolForClientId(ctx,
            req.ClientId);
        const user = await userPool.getUserByUsername(ctx, req.Username);
        if (!user) throw new errors.UserNotFoundError();
        if (user.UserStatus !== 'UNCONFIRMED') {
            throw new errors.InvalidParameterError(
                'User is already confirmed.');
        }
        const deliveryDetails = selectAppropriateDeliveryMethod(
            userPool.options.AutoVerifiedAttributes ?? [], user);
        if (!deliveryDetails) {
            throw new errors.InvalidParameterError(
                'User has no attribute matching desired auto verified ' +
                'attributes');
        }
        const code = otp();
        await messages.deliver(ctx, 'ResendCode', req.ClientId,
            userPool.options.Id, user, code, req.ClientMetadata,
            deliveryDetails);
        await userPool.saveUser(ctx, {
            ...user,
            UserLastModifiedDate: clock.get(),
            ConfirmationCode: code,
        });
        return { CodeDeliveryDetails: deliveryDetails };
    };

/*
 * ConfirmSignUp, then email_verified = true when the pool auto-verifies
 * e-mail and the user has one (the code was mailed there, so a right code
 * proves the address). cognito-local's own checks and errors come first.
 */
const confirmSignUp = Targets.ConfirmSignUp;
Targets.ConfirmSignUp = (services) => {
    const confirm = confirmSignUp(services);
    return async (ctx, req) => {
        const out = await confirm(ctx, req);
        const userPool = await services.cognito.getUserPoolForClientId(ctx,
            req.ClientId);
        const user = await userPool.getUserByUsername(ctx, req.Username);
        const auto = userPool.options.AutoVerifiedAttributes ?? [];
        if (user && auto.includes('email') &&
            attributeValue('email', user.Attributes) &&
            attributeValue('email_verified', user.Attributes) !== 'true') {
            await userPool.saveUser(ctx, {
                ...user,
                Attributes: attributesAppend(user.Attributes,
                    attribute('email_verified', 'true')),
            });
        }
        return out;
    };
};

/*
 * The logger cognito-local's start.js makes (same format in the log), but
 * writing through process.stdout: pino-pretty's own writer (sonic-boom 2)
 * counts characters where the system counts bytes, so after the box-drawn
 * frame of a code it holds the next lines back until enough others follow
 * - a "could not mail" line could sit unseen for minutes.
 */
const pino = libRequire('pino');
const pretty = libRequire('pino-pretty');
const logger = pino({ level: process.env.DEBUG ? 'debug' : 'info' }, pretty({
    destination: process.stdout,
    colorize: true,
    ignore: 'pid,name,hostname',
    singleLine: true,
    messageFormat: (log, key) =>
        `${log.reqId ?? 'NONE'} ${log.target ?? 'NONE'} ${log[key]}`,
}));

try {
    const server = await (await createDefaultServer(logger)).start();
    const address = server.address();
    if (!address) throw new Error('Server started without address');
    const url = typeof address === 'string' ? address
        : `${address.address}:${address.port}`;
    const proto = server instanceof https.Server ? 'https' : 'http';
    logger.info(`Cognito Local running on ${proto}://${url}` +
        (smtp ? `; codes are also mailed via ${smtp.host}:${smtp.port}`
            : ''));
} catch (err) {
    logger.error(err);
    process.exit(1);
}
