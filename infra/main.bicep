// SMC Serverless control plane on Azure: a storage account (state, task hub, staging, local images)
// and the Functions app (isolated worker, .NET 10) that hosts the same code as smc-control.
targetScope = 'resourceGroup'

@description('Prefix of every resource name (3-11 lower-case letters or digits).')
@minLength(3)
@maxLength(11)
param namePrefix string = 'smc'

@description('Region of the resources.')
param location string = resourceGroup().location

@description('Master key sealing each job\'s private key: base64 of 32 bytes (head -c 32 /dev/urandom | base64). Keep it: staged rounds can\'t be assembled without it.')
@secure()
param masterKey string

@description('Seconds between agent heartbeats.')
@minValue(5)
@maxValue(3600)
param heartbeatRateSeconds int = 30

@description('Alibaba Cloud AccessKey ID for provider alibaba (empty: jobs with imageProvider alibaba are refused).')
param alibabaAccessKeyId string = ''

@description('Alibaba Cloud AccessKey secret for provider alibaba.')
@secure()
param alibabaAccessKeySecret string = ''

@description('OSS bucket the disks are uploaded to before ImportImage; it must be in the jobs\' region.')
param alibabaOssBucket string = ''

var suffix = uniqueString(resourceGroup().id)
var storageName = toLower('${namePrefix}${take(suffix, 13)}')
var appName = '${namePrefix}-control-${take(suffix, 8)}'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  name: '${storage.name}/default/deployments'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${appName}-plan'
  location: location
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

var storageConnection = 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}deployments'
          authentication: { type: 'StorageAccountConnectionString', storageAccountConnectionStringName: 'DEPLOYMENT_STORAGE_CONNECTION_STRING' }
        }
      }
      runtime: { name: 'dotnet-isolated', version: '10.0' }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage', value: storageConnection }
        { name: 'DEPLOYMENT_STORAGE_CONNECTION_STRING', value: storageConnection }
        { name: 'SMC_STORAGE__CONNECTIONSTRING', value: storageConnection }
        { name: 'SMC_CONTROL__HEARTBEATRATESECONDS', value: string(heartbeatRateSeconds) }
        { name: 'SMC_SECURITY__MASTERKEY', value: masterKey }
        { name: 'SMC_ALIBABA__ACCESSKEYID', value: alibabaAccessKeyId }
        { name: 'SMC_ALIBABA__ACCESSKEYSECRET', value: alibabaAccessKeySecret }
        { name: 'SMC_ALIBABA__OSSBUCKET', value: alibabaOssBucket }
      ]
    }
  }
  dependsOn: [deployments]
}

@description('Base URL of the control plane (agents and operators use it; routes under /api/v1).')
output controlPlaneUrl string = 'https://${app.properties.defaultHostName}'
