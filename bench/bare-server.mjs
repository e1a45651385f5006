// The baseline: a bare botbuilder CloudAdapter + TeamsActivityHandler on restify 11, with the same body parser
// settings as src/server.ts, whose adaptiveCard/action handler returns a small static card. Nothing else.
import { createRequire } from 'node:module';
import { serveIpc } from './child-ipc.mjs';

const require = createRequire(import.meta.url);
const restify = require('restify');
const { CloudAdapter, ConfigurationBotFrameworkAuthentication, TeamsActivityHandler } = require('botbuilder');

// The same (empty, local-mode) auth settings loadConfig gives the real bot without an app id.
const adapter = new CloudAdapter(
  new ConfigurationBotFrameworkAuthentication({
    MicrosoftAppId: '',
    MicrosoftAppPassword: '',
    MicrosoftAppType: 'MultiTenant',
    MicrosoftAppTenantId: '',
  }),
);

const CARD = {
  type: 'AdaptiveCard',
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
  version: '1.5',
  body: [{ type: 'TextBlock', text: 'Accepted', weight: 'Bolder', color: 'Good' }],
};

class BareBot extends TeamsActivityHandler {
  async onAdaptiveCardInvoke() {
    return { statusCode: 200, type: 'application/vnd.microsoft.card.adaptive', value: CARD };
  }
}
const bot = new BareBot();

const server = restify.createServer({ name: 'bare', handleUncaughtExceptions: false });
server.use(restify.plugins.bodyParser({ maxBodySize: 256 * 1024, mapParams: false }));
server.post('/api/messages', async (req, res) => {
  await adapter.process(req, res, (context) => bot.run(context));
});

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  console.log(`bare-server: bare botbuilder handler listening on http://127.0.0.1:${port}/api/messages`);
  serveIpc({}, async () => server.close());
  process.send({ type: 'ready', port });
});
