using System.Runtime.CompilerServices;
using AiAssistant.Gateway.Forwarding;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace AiAssistant.Tests.Gateway;

public class RouteTableTests
{
    [Theory]
    [InlineData("/server", "settings")]
    [InlineData("/settings", "settings")]
    [InlineData("/auth", "settings")]
    [InlineData("/users", "settings")]
    [InlineData("/roles", "settings")]
    [InlineData("/policies", "settings")]
    [InlineData("/permissions", "settings")]
    [InlineData("/ai", "chat")]
    [InlineData("/items", "tools")]
    [InlineData("/collections", "tools")]
    [InlineData("/fields", "tools")]
    [InlineData("/relations", "tools")]
    [InlineData("/files", "tools")]
    [InlineData("/folders", "tools")]
    [InlineData("/assets", "tools")]
    [InlineData("/flows", "tools")]
    [InlineData("/mcp", "tools")]
    [InlineData("/schema", "tools")]
    public void Default_table_sends_each_directus_path_to_its_service(string prefix, string service)
    {
        var table = RouteTable.Load(new ConfigurationBuilder().AddJsonFile(GatewayAppSettings()).Build());

        Assert.Contains(new GatewayRoute(prefix, service), table.Routes);
    }

    [Fact]
    public void Default_table_has_no_other_rows()
    {
        var table = RouteTable.Load(new ConfigurationBuilder().AddJsonFile(GatewayAppSettings()).Build());

        Assert.Equal(18, table.Routes.Count);
    }

    [Fact]
    public void Replicas_come_from_aspire_service_keys_in_index_order()
    {
        var table = Load(new GatewayConfig().Route("/ai", "chat")
            .Service("chat", "http://127.0.0.1:5101/", "http://127.0.0.1:5102", "http://127.0.0.1:5103"));

        Assert.Equal(["http://127.0.0.1:5101", "http://127.0.0.1:5102", "http://127.0.0.1:5103"], table.ReplicasOf("chat").Addresses);
    }

    [Fact]
    public void Replicas_are_taken_in_turn()
    {
        var replicas = Load(new GatewayConfig().Route("/ai", "chat").Service("chat", "http://a:1", "http://b:2")).ReplicasOf("chat");

        string[] taken = [replicas.NextAddress()!, replicas.NextAddress()!, replicas.NextAddress()!];

        Assert.Equal(["http://a:1", "http://b:2", "http://a:1"], taken);
    }

    [Fact]
    public void A_service_without_addresses_has_no_next_address()
    {
        var table = Load(new GatewayConfig().Route("/ai", "chat"));

        Assert.Null(table.ReplicasOf("chat").NextAddress());
    }

    [Theory]
    [InlineData("ai")]
    [InlineData("/ai/")]
    [InlineData("/")]
    [InlineData("/ai/{id}")]
    [InlineData("/ai/*")]
    [InlineData("")]
    public void A_prefix_that_is_not_a_plain_path_is_refused(string prefix)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Load(new GatewayConfig().Route(prefix, "chat")));

        Assert.Contains("Gateway:Routes:0:Prefix", e.Message);
    }

    [Fact]
    public void A_prefix_listed_twice_is_refused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Load(new GatewayConfig().Route("/ai", "chat").Route("/AI", "tools")));

        Assert.Contains("twice", e.Message);
    }

    [Fact]
    public void An_empty_table_is_refused() =>
        Assert.Throws<InvalidOperationException>(() => Load(new GatewayConfig()));

    [Theory]
    [InlineData("127.0.0.1:5101")]
    [InlineData("localhost:5101")]
    [InlineData("ftp://127.0.0.1:5101")]
    [InlineData("http://127.0.0.1:5101/?x=1")]
    public void An_address_that_is_not_http_is_refused(string address)
    {
        var e = Assert.Throws<InvalidOperationException>(() => Load(new GatewayConfig().Route("/ai", "chat").Service("chat", address)));

        Assert.Contains("services:chat:http:0", e.Message);
    }

    private static RouteTable Load(GatewayConfig config) =>
        RouteTable.Load(new ConfigurationBuilder().AddInMemoryCollection(config.Values).Build());

    private static string GatewayAppSettings([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "../../../Gateway/appsettings.json"));
}
