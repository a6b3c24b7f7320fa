using System.Net.Sockets;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Smc.Core.Services;
using Smc.Storage.Azure;

namespace Smc.Control;

/// <summary>
/// The durable engine inside the standalone host: the Durable Task Framework's Azure Storage backend
/// (the provider Durable Functions uses) served by the in-process gRPC sidecar, which the
/// Microsoft.DurableTask worker and client reach over a private Unix socket. Several hosts on one
/// storage account share the task hub's partitions and its work-item queue.
/// </summary>
internal sealed class DurableEngine : IAsyncDisposable
{
    private readonly WebApplication _sidecar;
    private readonly string _socketPath;

    private DurableEngine(WebApplication sidecar, string socketPath, GrpcChannel channel)
    {
        _sidecar = sidecar;
        _socketPath = socketPath;
        Channel = channel;
    }

    public GrpcChannel Channel { get; }

    public static async Task<DurableEngine> StartAsync(StorageOptions storage, DurableOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        options.Validate();
        var service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = storage.TaskHubName,
            StorageAccountClientProvider = new StorageAccountClientProvider(storage.ConnectionString),
            PartitionCount = options.PartitionCount,
            MaxQueuePollingInterval = TimeSpan.FromSeconds(options.MaxQueuePollingSeconds),
            WorkerId = JobSteps.HostId,
            ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(options.MessageVisibilitySeconds),
            WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(options.MessageVisibilitySeconds),
            LeaseInterval = TimeSpan.FromSeconds(options.LeaseSeconds),
            LeaseRenewInterval = TimeSpan.FromSeconds(options.LeaseSeconds / 3.0),
            LeaseAcquireInterval = TimeSpan.FromSeconds(options.LeaseSeconds / 3.0),
            LoggerFactory = loggerFactory,
        });
        await service.CreateIfNotExistsAsync();

        string socketPath = Path.Combine(Path.GetTempPath(), $"smc-control-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socketPath, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IOrchestrationService>(new ReconcilingOrchestrationService(service, loggerFactory.CreateLogger<ReconcilingOrchestrationService>()));
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        WebApplication sidecar = builder.Build();
        sidecar.MapGrpcService<TaskHubGrpcServer>();
        await sidecar.StartAsync(cancellationToken);

        GrpcChannel channel = GrpcChannel.ForAddress("http://sidecar", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            },
        });
        return new DurableEngine(sidecar, socketPath, channel);
    }

    public async ValueTask DisposeAsync()
    {
        await Channel.ShutdownAsync();
        Channel.Dispose();
        await _sidecar.StopAsync();
        await _sidecar.DisposeAsync();
        File.Delete(_socketPath);
    }
}
