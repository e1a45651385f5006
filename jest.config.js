module.exports = { preset: 'ts-jest', testEnvironment: 'node', roots: ['<rootDir>/test'], testPathIgnorePatterns: ['/test/e2e/'] };
