import { CallerIdConstants, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import { AuthenticationConstants } from 'botframework-connector';
import type { Config } from '../config';

/**
 * botbuilder's options for Bot Framework authentication. Naming the channel's key document (BotOpenIdMetadata: a
 * sovereign cloud, or a test harness that signs its own tokens) switches botbuilder to "every endpoint given", and
 * any endpoint then left out is simply missing (no token issuer at all means every token is refused). So the public
 * cloud's values are filled in for everything else.
 */
export function authOptions(auth: Config['auth']): ConfigurationBotFrameworkAuthenticationOptions {
  if (!auth.BotOpenIdMetadata) return auth as ConfigurationBotFrameworkAuthenticationOptions;
  return {
    ...auth,
    ToBotFromChannelOpenIdMetadataUrl: auth.BotOpenIdMetadata,
    ToBotFromChannelTokenIssuer: AuthenticationConstants.ToBotFromChannelTokenIssuer,
    ToBotFromEmulatorOpenIdMetadataUrl: AuthenticationConstants.ToBotFromEmulatorOpenIdMetadataUrl,
    ToChannelFromBotLoginUrl: AuthenticationConstants.ToChannelFromBotLoginUrl,
    ToChannelFromBotOAuthScope: AuthenticationConstants.ToChannelFromBotOAuthScope,
    OAuthUrl: AuthenticationConstants.OAuthUrl,
    CallerId: CallerIdConstants.PublicAzureChannel,
    ValidateAuthority: true,
  } as ConfigurationBotFrameworkAuthenticationOptions;
}
