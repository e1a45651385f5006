// Partner Offers in Azure, deployed by `atk provision` (m365agents.yml, arm/deploy) with infra/azure.parameters.json:
// - a Linux App Service (Node 20) running `npm run start:prod`, HTTPS only, health check on /readyz;
// - a Key Vault holding the secrets, which the app reads through Key Vault references (no secret is in this file, in
//   the parameters file or in the app's settings);
// - the Azure Bot (single-tenant, the bot's Entra app) with the Microsoft Teams channel.
// The database is a parameter: a MongoDB replica set (MongoDB Atlas, or Azure Cosmos DB for MongoDB vCore), see
// infra/README.md. test/toolkit/infra.test.ts reads this file: keep each app setting on a line of its own.

@maxLength(20)
@minLength(4)
@description('Names the resources: letters and digits (the Toolkit passes partneroffers<RESOURCE_SUFFIX>).')
param resourceBaseName string

param location string = resourceGroup().location

@description('App Service plan SKU. B1 is the smallest with Always On (the bot sends from a background loop); P0v3 or larger for production.')
param webAppSku string = 'B1'

@minValue(1)
@maxValue(10)
@description('Instances of the bot. Also its DELIVERY_INSTANCES: each instance sends within 1/N of Teams\' rate limits, so do not autoscale past this number.')
param instanceCount int = 1

@description('The Node.js runtime (the bot needs 20.19 or later; 22 works too).')
@allowed([
  'NODE|20-lts'
  'NODE|22-lts'
])
param linuxFxVersion string = 'NODE|20-lts'

@maxLength(42)
param botDisplayName string

@description('The bot\'s Entra app (client) id: BOT_ID, written by aadApp/create.')
param botAppId string

@description('The tenant of the bot\'s Entra app: BOT_TENANT_ID. New Azure Bots are single-tenant (or a managed identity).')
param botTenantId string

@secure()
@description('The bot\'s client secret: SECRET_BOT_PASSWORD. Stored in the Key Vault only.')
param botPassword string

@description('The Teams app id: TEAMS_APP_ID, for the install link sent to partners whose customer has not installed the app.')
param teamsAppId string

@description('The Offers tab\'s Entra app (client) id: AAD_APP_CLIENT_ID. Teams SSO tokens for the tab are for this app.')
param tabAppClientId string

@secure()
@minLength(10)
@description('MongoDB connection string (SECRET_MONGODB_URI), stored in the Key Vault only. It must be a replica set: MongoDB Atlas (any tier), or Azure Cosmos DB for MongoDB vCore; a standalone server is refused at startup.')
param mongodbUri string

@description('MongoDB database name.')
param mongodbDb string = 'partnerOffers'

@description('The partner registry, relative to the deployed folder (PARTNERS_FILE; shipped with the code by atk deploy).')
param partnersFile string

@description('A service catalog override shipped with the code; empty for the built-in catalog.')
param catalogFile string = ''

@description('Comma-separated tenant ids in Office 365 operated by 21Vianet.')
param sovereignTenants string = ''

@allowed([
  'fatal'
  'error'
  'warn'
  'info'
  'debug'
  'trace'
  'silent'
])
param logLevel string = 'info'

@minValue(2)
@maxValue(3600)
@description('Seconds an outbox entry stays with one process unless renewed (every quarter of this): after a crash, another process takes it over within this.')
param outboxLeaseSeconds int = 8

@minValue(2)
@maxValue(3600)
param fulfilmentLeaseSeconds int = 180

@description('Days a delivered notification is kept in the outbox before the sweep deletes it.')
@minValue(1)
@maxValue(3650)
param outboxRetentionDays int = 7

@description('Entra\'s login host for connected partners\' Graph tokens.')
param microsoftAuthorityHost string = 'https://login.microsoftonline.com'

@description('Microsoft Graph (GDAP).')
param microsoftGraphBaseUrl string = 'https://graph.microsoft.com/v1.0'

@description('The Microsoft 365 admin center, where approval links point.')
param microsoftAdminCenterUrl string = 'https://admin.microsoft.com'

@description('The Partner Center API (orders and trials of connected partners).')
param partnerCenterBaseUrl string = 'https://api.partnercenter.microsoft.com/v1'

@description('Names of the variables holding connected partners\' Graph and Partner Center client secrets: each partner\'s clientSecretEnv in the partners file (FABRIKAM_GRAPH_CLIENT_SECRET, say). Each becomes an app setting that reads the Key Vault secret of that name with - for _ (FABRIKAM-GRAPH-CLIENT-SECRET), which you set yourself (infra/README.md).')
param partnerSecretNames array = []

var keyVaultName = take('kv${resourceBaseName}${uniqueString(resourceGroup().id)}', 24)
// Built-in role "Key Vault Secrets User": read secret values, nothing else.
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource serverfarm 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: resourceBaseName
  location: location
  kind: 'linux'
  sku: {
    name: webAppSku
    capacity: instanceCount
  }
  properties: {
    reserved: true
  }
}

resource webApp 'Microsoft.Web/sites@2023-12-01' = {
  name: resourceBaseName
  location: location
  kind: 'app,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: serverfarm.id
    httpsOnly: true
    clientAffinityEnabled: false
    siteConfig: {
      linuxFxVersion: linuxFxVersion
      // The built output only (package.json "start:prod"); App Service installed the production dependencies.
      appCommandLine: 'npm run start:prod'
      alwaysOn: true
      healthCheckPath: '/readyz'
      http20Enabled: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'MicrosoftAppPassword'
  properties: {
    value: botPassword
  }
}

resource mongodbUriSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: keyVault
  name: 'MONGODB-URI'
  properties: {
    value: mongodbUri
  }
}

// The app's own identity may read the vault's secrets (the deploying account needs Owner or User Access Administrator
// on the resource group to grant this).
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, webApp.id, keyVaultSecretsUserRoleId)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: webApp.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// The bot's settings: every key is one src/config.ts reads (env/example.env documents each). Secrets are Key Vault
// references, resolved by App Service into the environment. Settings set by hand in the portal are replaced at the
// next provision: change them here or in the parameters.
var botSettings = {
  NODE_ENV: 'production'
  MicrosoftAppId: botAppId
  MicrosoftAppPassword: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${botPasswordSecret.name})'
  MicrosoftAppType: 'SingleTenant'
  MicrosoftAppTenantId: botTenantId
  TEAMS_APP_ID: teamsAppId
  MONGODB_URI: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${mongodbUriSecret.name})'
  MONGODB_DB: mongodbDb
  PARTNERS_FILE: partnersFile
  CATALOG_FILE: catalogFile
  SOVEREIGN_TENANTS: sovereignTenants
  LOG_LEVEL: logLevel
  DELIVERY_INSTANCES: string(instanceCount)
  OUTBOX_LEASE_SECONDS: string(outboxLeaseSeconds)
  FULFILMENT_LEASE_SECONDS: string(fulfilmentLeaseSeconds)
  OUTBOX_RETENTION_DAYS: string(outboxRetentionDays)
  AAD_APP_CLIENT_ID: tabAppClientId
  AAD_APP_ID_URI: 'api://${webApp.properties.defaultHostName}/${tabAppClientId}'
  MICROSOFT_AUTHORITY_HOST: microsoftAuthorityHost
  MICROSOFT_GRAPH_BASE_URL: microsoftGraphBaseUrl
  MICROSOFT_ADMIN_CENTER_URL: microsoftAdminCenterUrl
  PARTNER_CENTER_BASE_URL: partnerCenterBaseUrl
}

// Connected partners' Graph client secrets, one Key Vault reference each.
var partnerSecretSettings = toObject(
  partnerSecretNames,
  name => name,
  name => '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${replace(name, '_', '-')})'
)

// App Service's own settings, not the bot's: the zip holds dist/ without node_modules, and App Service's build
// (Oryx, on Linux) installs the production dependencies from package-lock.json instead of building again.
var platformSettings = {
  SCM_DO_BUILD_DURING_DEPLOYMENT: 'true'
  CUSTOM_BUILD_COMMAND: 'npm ci --omit=dev --no-audit --no-fund'
}

resource appSettings 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: webApp
  name: 'appsettings'
  properties: union(platformSettings, partnerSecretSettings, botSettings)
  dependsOn: [
    secretsUser
  ]
}

resource botService 'Microsoft.BotService/botServices@2021-03-01' = {
  name: resourceBaseName
  location: 'global'
  kind: 'azurebot'
  sku: {
    name: 'F0'
  }
  properties: {
    displayName: botDisplayName
    endpoint: 'https://${webApp.properties.defaultHostName}/api/messages'
    msaAppId: botAppId
    msaAppTenantId: botTenantId
    msaAppType: 'SingleTenant'
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2021-03-01' = {
  parent: botService
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
  }
}

// Written to env/.env.<env> by the Toolkit (names upper-cased): deploy, the app package and aadApp/update read them.
output AZURE_APP_SERVICE_RESOURCE_ID string = webApp.id
output AZURE_KEY_VAULT_NAME string = keyVault.name
output BOT_DOMAIN string = webApp.properties.defaultHostName
output BOT_ENDPOINT string = 'https://${webApp.properties.defaultHostName}'
output TAB_DOMAIN string = webApp.properties.defaultHostName
output TAB_ENDPOINT string = 'https://${webApp.properties.defaultHostName}'
