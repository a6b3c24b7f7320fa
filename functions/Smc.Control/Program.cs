using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Smc.Api;
using Smc.Control;
using Smc.Core.Errors;
using Smc.Core.Orchestration;
using Smc.Storage.Azure;

// smc-control: the standalone host of the control plane — the HTTP API and the durable engine in one process.
WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
builder.Configuration.AddEnvironmentVariables("SMC_");
if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["ASPNETCORE_URLS"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:7071");
}

builder.Logging.AddFilter("DurableTask", LogLevel.Warning)
    .AddFilter("Microsoft.DurableTask", LogLevel.Warning)
    .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
    .AddFilter("Azure", LogLevel.Warning)
    .AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.UseUtcTimestamp = true;
        o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
    });

builder.Services.AddSmcControlPlane(builder.Configuration);
builder.Services.AddSingleton(sp => new OperatorKeyAuth(sp.GetRequiredService<Smc.Core.Ports.IKeyIndex>(), sp.GetRequiredService<TimeProvider>(),
    TimeSpan.FromSeconds(sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Smc.Core.Options.SecurityOptions>>().Value.OperatorKeyCacheSeconds)));
builder.Services.AddSingleton<IOperatorAuth>(sp => sp.GetRequiredService<OperatorKeyAuth>());
builder.Services.AddHostedService<HousekeepingService>();
builder.Services.AddHostedService<SpareKeyService>();

var storage = new StorageOptions();
builder.Configuration.GetSection("STORAGE").Bind(storage);
var durable = new DurableOptions();
builder.Configuration.GetSection("DURABLE").Bind(durable);

using var loggerFactory = LoggerFactory.Create(l => l
    .AddFilter("DurableTask", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning).AddFilter("Azure", LogLevel.Warning)
    .AddSimpleConsole(o => o.SingleLine = true));
ILogger startup = loggerFactory.CreateLogger("smc-control");
startup.StorageChosen(storage.AccountForLogs(), storage.TaskHubName);

// A bad operator key stops the host here, before storage or the durable engine is touched.
OperatorKeyAuth.ParseConfigured(builder.Configuration["ADMIN_KEY"]);
await using DurableEngine engine = await DurableEngine.StartAsync(storage, durable, loggerFactory, CancellationToken.None);
builder.Services.AddDurableTaskWorker(b =>
{
    b.UseGrpc(engine.Channel);
    b.AddTasks(MigrationTasks.Register);
});
builder.Services.AddDurableTaskClient(b => b.UseGrpc(engine.Channel));

WebApplication app = builder.Build();
await AzureStorageRegistration.EnsureCreatedAsync(app.Services);
string? newKey = await app.Services.GetRequiredService<OperatorKeyAuth>().EnsureKeyAsync(builder.Configuration["ADMIN_KEY"]);
if (newKey is not null)
{
    // Printed once, on the console only (never through the logger); only its hash is stored.
    Console.WriteLine($"Operator key (shown once; send it as x-functions-key): {newKey}");
}

ApiDispatcher dispatcher = app.Services.GetRequiredService<ApiDispatcher>();
foreach (ApiRoute route in ApiRoutes.All)
{
    app.MapMethods("/api/" + route.Template, [route.Method], (Func<HttpContext, Task<IResult>>)(http => dispatcher.InvokeAsync(route, http)))
        .WithName(route.Name);
}

app.MapGet("/", () => Results.Bytes(Dashboard.Html, "text/html; charset=utf-8"));

// The SMC-compatible API (docs/smc-compat.md): RPC requests signed with an access key, at /smc/ (and /api/smc, as the
// Functions host serves it).
Smc.Api.Compat.SmcFacade smc = app.Services.GetRequiredService<Smc.Api.Compat.SmcFacade>();
foreach (string path in new[] { "/smc", "/api/smc" }) // a route also matches its path with a trailing slash
{
    app.MapMethods(path, ["GET", "POST"], (Func<HttpContext, Task<IResult>>)(http => smc.HandleAsync(http)));
}
app.Map("/api/{**rest}", (HttpContext http) =>
    Problem.From(SmcException.NotFound(ErrorCodes.RouteNotFound, $"No route {http.Request.Method} {http.Request.Path}. See GET /api/v1/openapi.json for the routes."), http.Request.Path).ToResult());

app.Lifetime.ApplicationStarted.Register(() =>
    startup.Listening(string.Join(", ", app.Urls)));
await app.RunAsync();
