using System.Net;
using System.Text;
using AiAssistant.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace AiAssistant.Tests.Gateway;

/// <summary>
/// Routing that notices: a destination that refuses connections or does not answer its health probe leaves the
/// rotation, a request that never reached it is retried once elsewhere, and it comes back once it answers again.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class ProxyHealthTests(ServersFixture servers)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>An upstream that counts the requests it answers (health probes aside) and echoes their body.</summary>
    private sealed class Counting
    {
        public int Requests;
        public LoopbackApp App = null!;

        public static async Task<Counting> StartAsync(int port = 0)
        {
            var counting = new Counting();
            counting.App = await LoopbackApp.UpstreamAsync(async context =>
            {
                Interlocked.Increment(ref counting.Requests);
                await context.Response.WriteAsync(await new StreamReader(context.Request.Body).ReadToEndAsync());
            }, port);
            return counting;
        }
    }

    [Fact]
    public async Task A_destination_that_refuses_connections_leaves_the_rotation_and_its_requests_go_elsewhere()
    {
        var dead = $"http://127.0.0.1:{ClosedPort()}";
        var alive = await Counting.StartAsync();
        await using var _ = alive.App;
        var config = new GatewayConfig().Service("chat", dead, alive.App.Address.ToString());
        // without the active probe, which would otherwise notice it first: the passive check alone
        config.Values["ReverseProxy:Clusters:chat:HealthCheck:Active:Enabled"] = "false";
        await using var gateway = await LoopbackApp.GatewayAsync(servers, config);
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        // Round robin sends every second request to the dead replica until it is marked: each of those is retried.
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.PostAsync("/ai/chat", new StringContent($"turn {i}", Encoding.UTF8, "text/plain"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"turn {i}", await response.Content.ReadAsStringAsync()); // the body crossed on the retry
        }

        Assert.Equal(20, alive.Requests);
        Assert.Equal(DestinationHealth.Unhealthy, Destination(gateway, "chat", dead).Health.Passive);
    }

    [Fact]
    public async Task A_replica_that_comes_back_takes_traffic_again()
    {
        var port = ClosedPort();
        var returning = $"http://127.0.0.1:{port}/";
        var steady = await Counting.StartAsync();
        await using var _ = steady.App;
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig().Service("chat", returning, steady.App.Address.ToString()));
        using var client = gateway.Client(GatewayUsers.AppUserToken);
        await WaitUntilAsync(() => Destination(gateway, "chat", returning).Health.Active == DestinationHealth.Unhealthy, "the active probe marks the absent replica");

        var back = await Counting.StartAsync(port);
        await using var __ = back.App;
        await WaitUntilAsync(() => Destination(gateway, "chat", returning).Health.Active == DestinationHealth.Healthy, "the active probe notices it is back");

        for (var i = 0; i < 10; i++)
        {
            using var response = await client.PostAsync("/ai/chat", new StringContent("hello"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.True(back.Requests >= 4, $"the returned replica answered {back.Requests} of 10 requests");
    }

    [Fact]
    public async Task A_destination_whose_health_probe_hangs_leaves_the_rotation()
    {
        var hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hungRequests = 0;
        await using var hung = await LoopbackApp.StartAsync(app =>
        {
            app.Map("/health", async context => await hang.Task.WaitAsync(context.RequestAborted));
            app.Map("/{**path}", context => { Interlocked.Increment(ref hungRequests); return context.Response.WriteAsync("hung"); });
        });
        var steady = await Counting.StartAsync();
        await using var _ = steady.App;
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig().Service("chat", hung.Address.ToString(), steady.App.Address.ToString()));
        using var client = gateway.Client(GatewayUsers.AppUserToken);
        try
        {
            await WaitUntilAsync(() => Destination(gateway, "chat", hung.Address.ToString()).Health.Active == DestinationHealth.Unhealthy, "the probe's timeout marks it");
            var before = hungRequests;
            for (var i = 0; i < 10; i++)
            {
                using var response = await client.GetAsync("/ai/models");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            Assert.Equal(before, hungRequests);
        }
        finally
        {
            hang.TrySetResult();
        }
    }

    [Fact]
    public async Task Nothing_is_retried_once_the_request_body_started_to_flow()
    {
        var hits = 0;
        RequestDelegate readThenDie = async context =>
        {
            Interlocked.Increment(ref hits);
            var buffer = new byte[4];
            await context.Request.Body.ReadAtLeastAsync(buffer, 4);
            context.Abort();
        };
        await using var first = await LoopbackApp.UpstreamAsync(readThenDie);
        await using var second = await LoopbackApp.UpstreamAsync(readThenDie);
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig().Service("chat", first, second));
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        using var response = await client.PostAsync("/ai/chat", new ByteArrayContent(new byte[64 * 1024]));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(1, hits);
    }

    [Fact]
    public async Task With_every_destination_refusing_the_client_gets_one_502_envelope()
    {
        await using var gateway = await LoopbackApp.GatewayAsync(servers, new GatewayConfig()
            .Service("chat", $"http://127.0.0.1:{ClosedPort()}", $"http://127.0.0.1:{ClosedPort()}"));
        using var client = gateway.Client(GatewayUsers.AppUserToken);

        using var response = await client.PostAsync("/ai/chat", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var (code, message) = await ProxyRoutesTests.ReadErrorAsync(response);
        Assert.Equal("SERVICE_UNAVAILABLE", code);
        Assert.Equal("Service \"chat\" is unavailable. Could not reach it.", message);
    }

    private static DestinationState Destination(LoopbackApp gateway, string cluster, string address)
    {
        var lookup = gateway.Services.GetRequiredService<IProxyStateLookup>();
        Assert.True(lookup.TryGetCluster(cluster, out var state), $"no cluster {cluster}");
        var wanted = new Uri(address);
        return state.Destinations.Values.Single(d => new Uri(d.Model.Config.Address) == wanted);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Patience);
        while (!condition())
        {
            if (timeout.IsCancellationRequested) Assert.Fail($"not within {Patience.TotalSeconds} s: {what}");
            await Task.Delay(100);
        }
    }

    private static int ClosedPort() => ProxyForwardingTests.ClosedPort();
}
