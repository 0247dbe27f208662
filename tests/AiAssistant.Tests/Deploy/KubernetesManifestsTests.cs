using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using AiAssistant.Contracts;
using AiAssistant.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace AiAssistant.Tests.Deploy;

/// <summary>
/// deploy/kubernetes rendered with <c>kubectl kustomize</c> and checked by <c>tests/kubernetes/manifests.test.mjs</c>
/// (every object against the Kubernetes API schemas of <c>kubernetes-models</c>, probes, resources, secrets, network
/// policies). What the manifests may configure is what the AppHost passes: the keys come from the AppHost's own model.
/// </summary>
public sealed class KubernetesManifestsTests
{
    private static readonly string[] Services = [ResourceNames.Gateway, ResourceNames.Settings, ResourceNames.Tools, ResourceNames.Chat];

    /// <summary>
    /// Pass-through variables the AppHost gives only when its own environment has them: set here, so that their keys are
    /// in the list (<c>Secrets:MasterKey</c> also stands for the key ring of a rotation, previous key included).
    /// </summary>
    private static readonly string[] PassThrough =
    [
        "--AI_ENABLED=true", "--ADMIN_EMAIL=admin@example.com", "--ADMIN_PASSWORD=x", "--Files:Import:AllowPrivateAddresses=false",
        "--Secrets:MasterKey=x", "--Secrets:MasterKeyId=k2", "--Secrets:PreviousKeys:k1=x",
    ];

    [Fact]
    public async Task The_manifests_render_validate_and_configure_only_what_the_AppHost_passes()
    {
        var folder = TestFolders.Create("k8s");
        try
        {
            var keysFile = Path.Combine(folder, "apphost-keys.json");
            await File.WriteAllTextAsync(keysFile, JsonSerializer.Serialize(await AppHostKeysAsync(Path.Combine(folder, "data"))));
            await NodeSuite.RunAsync("kubernetes", "manifests.test.mjs", "kubernetes-models", new Dictionary<string, string>
            {
                ["APPHOST_KEYS"] = keysFile,
            });
        }
        finally
        {
            TestFolders.Delete(folder);
        }
    }

    /// <summary>
    /// The environment variable names the AppHost gives each service, read from its model as a publisher would (the
    /// app is built, never started): <c>{"settings":["ConnectionStrings__settingsdb",…],…}</c>.
    /// </summary>
    private static async Task<Dictionary<string, string[]>> AppHostKeysAsync(string dataFolder)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--data", dataFolder, .. PassThrough], timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        var publishing = new DistributedApplicationExecutionContext(
            new DistributedApplicationExecutionContextOptions(DistributedApplicationOperation.Publish) { Services = app.Services });
        var keys = new Dictionary<string, string[]>();
        foreach (var name in Services)
        {
            var resource = builder.Resources.OfType<ProjectResource>().Single(r => r.Name == name);
            var configuration = await ExecutionConfigurationBuilder.Create(resource).WithEnvironmentVariablesConfig()
                .BuildAsync(publishing, NullLogger.Instance, timeout.Token);
            keys[name] = [.. configuration.EnvironmentVariables.Select(v => v.Key).Order(StringComparer.Ordinal)];
        }
        Assert.All(Services, name => Assert.Contains($"ConnectionStrings__{ResourceNames.Redis}", keys[name]));
        return keys;
    }
}
