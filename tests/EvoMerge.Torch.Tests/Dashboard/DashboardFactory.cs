using EvoMerge.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;

namespace EvoMerge.Torch.Tests.Dashboard;

/// <summary>
/// The dashboard's routes in-process (ASP.NET Core's TestServer) over a runs folder. The dashboard is a library
/// that the CLI starts, not an app with its own Main, so the host is built here from the same two calls
/// <c>DashboardServer</c> makes (<c>AddDashboard</c>, <c>MapDashboard</c>).
/// </summary>
public sealed class DashboardFactory(string runsRoot) : WebApplicationFactory<DashboardFactory>
{
    protected override IHostBuilder CreateHostBuilder() => Host.CreateDefaultBuilder()
        .ConfigureWebHost(web => web
            .ConfigureServices(services => services.AddDashboard(runsRoot))
            .Configure(app => app.UseRouting().UseEndpoints(endpoints => endpoints.MapDashboard())));

    /// <summary>The factory guesses a content root from the solution layout; the dashboard serves nothing from disk.</summary>
    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.UseContentRoot(AppContext.BaseDirectory);
}
