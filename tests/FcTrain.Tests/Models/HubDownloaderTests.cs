using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using FcTrain.Diagnostics;
using FcTrain.Models;
using FcTrain.Tests.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models;

/// <summary>The Hub download, against a small Hub of our own on 127.0.0.1 (never the internet).</summary>
public sealed class HubDownloaderTests : IDisposable
{
    private const string Repo = "fctrain-test/gemma2-tiny";
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";
    private readonly HttpListener _listener = new();
    private readonly string _endpoint;
    private readonly string _cacheRoot = Directory.CreateTempSubdirectory("fctrain-hub-").FullName;
    private readonly Dictionary<string, byte[]> _files = new()
    {
        ["config.json"] = File.ReadAllBytes(Path.Combine(ConformanceTests.Golden.Folder("tiny-f32"), "config.json")),
        ["model.safetensors"] = File.ReadAllBytes(Path.Combine(ConformanceTests.Golden.Folder("tiny-f32"), "model.safetensors")),
    };
    private readonly List<string> _requests = [];
    private bool _corrupt;
    private int? _stallAfter;   // send the headers and this many bytes of a file, then nothing
    private static readonly HubTimeouts Short = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1));

    public HubDownloaderTests()
    {
        int port = FreePort();
        _endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(_endpoint + "/");
        _listener.Start();
        _ = Task.Run(Serve);
    }

    [Fact]
    public void Downloads_into_the_hugging_face_cache_layout_and_reuses_it()
    {
        var cache = new HubCache(_cacheRoot);
        var (folder, revision) = new HubDownloader(cache, _ => { }, _endpoint).Download(Repo, "main");

        Assert.Equal(Commit, revision);
        Assert.Equal(Path.Combine(_cacheRoot, "models--fctrain-test--gemma2-tiny", "snapshots", Commit), folder);
        Assert.Equal(Commit, File.ReadAllText(Path.Combine(_cacheRoot, "models--fctrain-test--gemma2-tiny", "refs", "main")));
        Assert.NotNull(new FileInfo(Path.Combine(folder, "model.safetensors")).LinkTarget);   // snapshots link to blobs/, as huggingface_hub
        Assert.Equal((folder, Commit), cache.Find(Repo, "main"));
        using var model = ModelLoader.Load(folder, ScalarType.Float32, CPU);
        Assert.Equal(384, model.Config.VocabSize);
    }

    [Fact]
    public void Resumes_a_partial_download_with_a_range_request()
    {
        var cache = new HubCache(_cacheRoot);
        string blobs = Path.Combine(cache.RepoFolder(Repo), "blobs");
        Directory.CreateDirectory(blobs);
        File.WriteAllBytes(Path.Combine(blobs, Uri.EscapeDataString(Commit + "-model.safetensors") + ".incomplete"), _files["model.safetensors"][..1000]);

        var (folder, _) = new HubDownloader(cache, _ => { }, _endpoint).Download(Repo, "main");

        Assert.Contains(_requests, r => r.EndsWith("model.safetensors range=bytes=1000-"));
        Assert.Equal(_files["model.safetensors"], File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
    }

    [Fact]
    public void A_checksum_mismatch_is_an_error_and_leaves_nothing_behind()
    {
        _corrupt = true;
        var cache = new HubCache(_cacheRoot);

        var e = Assert.Throws<FcTrainException>(() => new HubDownloader(cache, _ => { }, _endpoint).Download(Repo, "main"));

        Assert.Equal("FCT0215", e.Diagnostic.Code);
        Assert.Null(cache.Find(Repo, "main"));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(cache.RepoFolder(Repo), "blobs"), "*.incomplete"));
    }

    [Fact]
    public void A_hub_that_accepts_and_never_answers_fails_with_FCT0503_within_the_stall_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        _ = Task.Run(async () => { while (true) accepted.Add(await silent.AcceptSocketAsync()); });
        var cache = new HubCache(_cacheRoot);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var e = Assert.Throws<FcTrainException>(() =>
            new HubDownloader(cache, _ => { }, $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}", Short).Download(Repo, "main"));

        Assert.Equal("FCT0503", e.Diagnostic.Code);
        Assert.Contains("sent no answer for 1 s", e.Diagnostic.Message);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 4.5);
        foreach (var socket in accepted.ToArray()) socket.Dispose();
    }

    [Fact]
    public void A_download_that_stalls_fails_with_FCT0503_keeps_the_partial_file_and_the_next_run_continues_it()
    {
        _stallAfter = 4096;
        var cache = new HubCache(_cacheRoot);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var e = Assert.Throws<FcTrainException>(() => new HubDownloader(cache, _ => { }, _endpoint, Short).Download(Repo, "main"));

        Assert.Equal("FCT0503", e.Diagnostic.Code);
        Assert.Contains("model.safetensors stalled: no data for 1 s", e.Diagnostic.Message);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 4.5);
        string partial = Path.Combine(cache.RepoFolder(Repo), "blobs", Uri.EscapeDataString(Commit + "-model.safetensors") + ".incomplete");
        Assert.Equal(_files["model.safetensors"][..4096], File.ReadAllBytes(partial));

        _stallAfter = null;
        var (folder, _) = new HubDownloader(cache, _ => { }, _endpoint, Short).Download(Repo, "main");
        Assert.Contains(_requests, r => r.EndsWith("model.safetensors range=bytes=4096-"));
        Assert.Equal(_files["model.safetensors"], File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));
    }

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            string path = context.Request.Url!.AbsolutePath;
            string? range = context.Request.Headers["Range"];
            lock (_requests) _requests.Add(path + (range is null ? "" : " range=" + range));
            var response = context.Response;
            if (path == $"/api/models/{Repo}/revision/main")
            {
                Write(response, Encoding.UTF8.GetBytes($$"""{"sha":"{{Commit}}","siblings":[{"rfilename":"config.json"},{"rfilename":"model.safetensors"},{"rfilename":"README.md"}]}"""));
            }
            else if (path.StartsWith($"/{Repo}/resolve/{Commit}/") && _files.TryGetValue(path[($"/{Repo}/resolve/{Commit}/").Length..], out var bytes))
            {
                string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                response.Headers["X-Linked-Etag"] = $"\"{sha}\"";
                if (_corrupt) bytes = [.. bytes[..^1], (byte)(bytes[^1] ^ 1)];
                if (range is not null && range.StartsWith("bytes=") && long.TryParse(range[6..].TrimEnd('-'), out long from))
                {
                    response.StatusCode = 206;
                    bytes = bytes[(int)from..];
                }
                if (_stallAfter is { } sent && bytes.Length > sent)
                {
                    response.ContentLength64 = bytes.Length;
                    response.OutputStream.Write(bytes, 0, sent);
                    response.OutputStream.Flush();
                    continue;   // never completes: the listener closes it at the end of the test
                }
                Write(response, bytes);
            }
            else
            {
                response.StatusCode = 404;
                response.Close();
            }
        }
    }

    private static void Write(HttpListenerResponse response, byte[] bytes)
    {
        response.ContentLength64 = bytes.Length;
        response.OutputStream.Write(bytes);
        response.Close();
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public void Dispose()
    {
        _listener.Close();
        Directory.Delete(_cacheRoot, recursive: true);
    }
}
