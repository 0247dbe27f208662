using System.Reflection;

namespace AiAssistant.AppHost.Hosting;

/// <summary>
/// Where the repository and the built services are. Every project builds into
/// <c>{artifacts}/bin/{ProjectFolder}/{configuration}/</c>; the launcher runs the services of its own configuration.
/// </summary>
public sealed record BuildLayout(string RepoRoot, string ArtifactsPath, string Configuration)
{
    public const string SolutionFile = "AiAssistant.sln";
    /// <summary>Environment variable naming the artifacts folder (as --artifacts does).</summary>
    public const string ArtifactsVariable = "AIASSISTANT_ARTIFACTS";

    /// <param name="artifactsPath">explicit folder; otherwise $AIASSISTANT_ARTIFACTS, the folder this launcher was
    /// built into (so -p:ArtifactsPath=X builds find their services in X), or {repo}/artifacts</param>
    /// <param name="configuration">"debug" or "release"; default: the configuration this launcher was built with</param>
    public static BuildLayout Detect(string? artifactsPath = null, string? configuration = null)
    {
        var root = FindRepoRoot();
        var config = (configuration
            ?? typeof(BuildLayout).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
            ?? "Release").ToLowerInvariant();
        var artifacts = artifactsPath
            ?? NonEmpty(Environment.GetEnvironmentVariable(ArtifactsVariable))
            ?? ArtifactsOf(typeof(BuildLayout).Assembly.Location, config)
            ?? Path.Combine(root, "artifacts");
        return new BuildLayout(root, Path.GetFullPath(artifacts), config);
    }

    /// <summary>The output folder of a project: {artifacts}/bin/{ProjectFolder}/{configuration}.</summary>
    public string OutputOf(string projectFolder) => Path.Combine(ArtifactsPath, "bin", projectFolder, Configuration);

    public string AssemblyOf(string projectFolder, string assemblyName) => Path.Combine(OutputOf(projectFolder), assemblyName + ".dll");

    /// <summary>Where a project's sources are (its content root: appsettings.json, wwwroot).</summary>
    public string ProjectDirectory(string projectFolder) => Path.Combine(RepoRoot, projectFolder);

    /// <summary>The .sln's folder, searched up from the current directory, then from this assembly; else the build-time path.</summary>
    public static string FindRepoRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile))) return dir.FullName;
        var built = typeof(BuildLayout).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepoRoot")?.Value;
        return built is not null && File.Exists(Path.Combine(built, SolutionFile)) ? built : Directory.GetCurrentDirectory();
    }

    /// <summary>{a}/bin/{project}/{config}[_rid]/x.dll → {a}: the artifacts folder an assembly was built or copied into
    /// (null for the classic {project}/bin/{Config}/{tfm}/ layout).</summary>
    public static string? ArtifactsOf(string assemblyPath, string configuration)
    {
        var configDir = Directory.GetParent(assemblyPath);
        if (configDir is null || configDir.Name.Split('_')[0] != configuration.ToLowerInvariant()) return null;
        var binDir = configDir.Parent?.Parent;
        return binDir is { Name: "bin", Parent: { } artifacts } ? artifacts.FullName : null;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
