import { CallerIdConstants, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import { AuthenticationConstants } from 'botframework-connector';
import type { Config } from '../config';

/**
 * botbuilder's options for Bot Framework authentication. Naming the channel's key document (BotOpenIdMetadata: a
 * test harness that signs channel tokens with its own keys) switches botbuilder to "every endpoint given", and any
 * endpoint then left out is simply missing (no token issuer at all means every token is refused). So the public
 * cloud's values are filled in for everything else. (A government cloud is botbuilder's ChannelService setting,
 * which this app does not offer.)
 */
export function authOptions(auth: Config['auth']): ConfigurationBotFrameworkAuthenticationOptions {
  if (!auth.BotOpenIdMetadata) return auth;
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
  };
}
