using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Smc.Api;
using Smc.Core.Options;
using Smc.Core.Ports;
using Smc.Functions;

// The Azure Functions (isolated worker) host of the control plane: the same services and route table as
// smc-control; the Functions runtime provides HTTP, timers and the Durable Task engine.
FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Configuration.AddEnvironmentVariables("SMC_");
builder.Services.AddSmcControlPlane(builder.Configuration);
builder.Services.PostConfigure<SecurityOptions>(o => o.AllowKeyFile = false); // instances are many and short-lived: one configured key
builder.Services.AddSingleton<IOperatorAuth, HostCheckedOperatorAuth>();
builder.Services.AddSingleton<IMigrationEngine, FunctionsMigrationEngine>();
builder.Services.AddSingleton<FunctionsApi>();
IHost host = builder.Build();

// As smc-control does at start: the tables and containers, and the due-time column records stored by an older version
// lack (the housekeeping sweeps query it). A fresh storage account works from the first request.
await Smc.Storage.Azure.AzureStorageRegistration.EnsureCreatedAsync(host.Services);
await host.RunAsync();
