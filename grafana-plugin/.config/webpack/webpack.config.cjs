// Production build of the panel, following @grafana/create-plugin's conventions: entry src/module.ts,
// AMD output dist/module.js, React/ReactDOM/@grafana/*/@emotion/css external (Grafana provides them at run time),
// public path public/plugins/<id>/. Plain CommonJS so it needs no ts-node. Single-threaded on purpose
// (shared 2-core machines): one ts-loader in transpile-only mode, webpack parallelism 1, minimizer without workers.
const path = require('node:path');
const webpack = require('webpack');

const root = path.resolve(__dirname, '../..');
const pluginJson = require(path.join(root, 'src/plugin.json'));

function minimizers() {
  try {
    const Minimizer = require(require.resolve('minimizer-webpack-plugin', { paths: [path.dirname(require.resolve('webpack'))] }));
    return [new Minimizer({ parallel: false, extractComments: false })];
  } catch {
    try {
      const Terser = require(require.resolve('terser-webpack-plugin', { paths: [path.dirname(require.resolve('webpack'))] }));
      return [new Terser({ parallel: false, extractComments: false })];
    } catch {
      return ['...'];
    }
  }
}

// Exactly the externals create-plugin declares; Grafana's SystemJS/AMD loader maps each to its own copy.
const EXTERNALS = [
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
  /^@grafana\/schema/i,
];

module.exports = (env = {}) => ({
  mode: env.development ? 'development' : 'production',
  context: path.join(root, 'src'),
  entry: { module: './module.ts' },
  devtool: 'source-map',
  parallelism: 1,
  target: 'web',
  output: {
    path: path.join(root, 'dist'),
    filename: '[name].js',
    chunkFilename: '[name].js?_cache=[contenthash]',
    library: { type: 'amd' },
    publicPath: `public/plugins/${pluginJson.id}/`,
    uniqueName: pluginJson.id,
    clean: false,
  },
  externals: EXTERNALS,
  resolve: { extensions: ['.ts', '.tsx', '.js', '.jsx'] },
  module: {
    rules: [
      {
        test: /\.tsx?$/,
        exclude: /node_modules/,
        use: {
          loader: 'ts-loader',
          options: {
            transpileOnly: true,
            configFile: path.join(root, 'tsconfig.json'),
            compilerOptions: { module: 'esnext', noEmit: false, sourceMap: true, target: 'ES2020' },
          },
        },
      },
    ],
  },
  optimization: { minimize: !env.development, minimizer: minimizers() },
  performance: { hints: false },
  plugins: [new webpack.DefinePlugin({ 'process.env.NODE_ENV': JSON.stringify(env.development ? 'development' : 'production') })],
});
